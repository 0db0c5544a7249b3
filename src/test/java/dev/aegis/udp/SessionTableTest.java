package dev.aegis.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Session bookkeeping: the limit, adding, ending once, the sweep. */
class SessionTableTest {

    private final AtomicInteger channelsClosed = new AtomicInteger();
    private final SessionTable table = new SessionTable(channelsClosed::incrementAndGet, new java.util.concurrent.atomic.AtomicInteger());
    private final Backend backend = new Backend(
            new BackendConfig(new HostPort("127.0.0.1", 5001), 100, 0, Optional.empty()),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 5001),
            new CircuitBreakerConfig(5, Duration.ofSeconds(30)));

    private UdpSession open(int clientPort) throws IOException {
        assertTrue(backend.tryAcquire());
        return UdpSession.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), clientPort), backend,
                DatagramChannel.open(), backend.address(), TokenBucket.UNLIMITED);
    }

    @Test
    void aFullTableRefusesAndCountsTheRefusal() throws IOException {
        table.add(open(40001));
        assertTrue(table.hasRoom(0), "0 is unlimited");
        assertTrue(table.hasRoom(2));
        assertFalse(table.hasRoom(1));
        assertEquals(1, table.droppedMaxSessions());
        assertEquals(1, table.created());
        table.endAll(EndReason.LISTENER_CLOSED, false);
    }

    @Test
    void aSessionEndsOnceAndGivesItsSlotBack() throws IOException {
        UdpSession s = open(40002);
        table.add(s);
        assertSame(s, table.get(s.client));

        assertTrue(table.end(s, EndReason.IDLE_TIMEOUT, false));
        assertFalse(table.end(s, EndReason.LISTENER_CLOSED, false), "a second end is a no-op");

        assertNull(table.get(s.client));
        assertFalse(s.leg.channel.isOpen());
        assertEquals(0, backend.activeConnections());
        assertEquals(1, table.ended());
        assertEquals(1, table.expired());
        assertEquals(1, channelsClosed.get());
    }

    @Test
    void theSweepEndsIdleSessionsAndKeepsActiveOnes() throws IOException {
        UdpSession idle = open(40003);
        UdpSession active = open(40004);
        table.add(idle);
        table.add(active);
        long now = idle.createdNanos + 1_000;
        active.countFromClient(1, now);

        table.sweep(now, 500, true, false);

        assertNull(table.get(idle.client));
        assertSame(active, table.get(active.client));
        assertEquals(1, table.expired());
        table.endAll(EndReason.LISTENER_CLOSED, false);
        assertEquals(0, table.size());
        assertEquals(0, backend.activeConnections());
    }
}
