package dev.aegis.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures what the forwarding path allocates, with HotSpot's per-thread allocation counter on the
 * listener's reader thread (client -> backend) and relay thread (backend -> client). Both are
 * platform threads, which is what makes the counter available.
 */
@Tag("allocation") // measured on JIT-compiled code: its own surefire execution, not the functional suite
class UdpAllocationTest {

    private static final int WARM_UP = 3_000;
    private static final int MEASURED = 10_000;

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private EchoBackend backend;
    private UdpListener listener;

    @BeforeEach
    void start() throws Exception {
        backend = EchoBackend.plain();
        listener = new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoBackend.pool(backend), new UdpSettings(Duration.ofSeconds(30), 0, false));
        listener.start();
    }

    @AfterEach
    void stop() throws Exception {
        listener.close();
        backend.close();
    }

    @Test
    void forwardingOneClientsDatagramsAllocatesNothingInSteadyState() throws Exception {
        try (TestClient c = new TestClient(listener.localAddress())) {
            for (int i = 0; i < WARM_UP; i++) {
                c.ask("warm-up");
            }
            long reader0 = threads.getThreadAllocatedBytes(listener.readerThreadId());
            long relay0 = threads.getThreadAllocatedBytes(listener.relayThreadId());
            for (int i = 0; i < MEASURED; i++) {
                c.ask("measured");
            }
            double reader = (threads.getThreadAllocatedBytes(listener.readerThreadId()) - reader0) / (double) MEASURED;
            double relay = (threads.getThreadAllocatedBytes(listener.relayThreadId()) - relay0) / (double) MEASURED;
            System.out.printf("udp allocation, one client: reader %.2f B/datagram, relay %.2f B/datagram%n", reader, relay);

            // The smallest object is 16 bytes: even one every fourth datagram would exceed 4 B per
            // datagram; what remains below that is one-off (first use of a code path).
            assertTrue(reader < 4, "reader thread allocates " + reader + " B per datagram");
            assertTrue(relay < 4, "relay thread allocates " + relay + " B per datagram");
            assertEquals(1, listener.sessionCount());
        }
    }

    @Test
    void perPacketBalancingOverThreeBackendsAllocatesNothingInSteadyState() throws Exception {
        EchoBackend b2 = EchoBackend.plain();
        EchoBackend b3 = EchoBackend.plain();
        UdpListener spread = new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoBackend.pool(backend, b2, b3),
                new UdpSettings(Duration.ofSeconds(30), 0, false).withSessionMode(0, true));
        spread.start();
        try (TestClient c = new TestClient(spread.localAddress())) {
            for (int i = 0; i < WARM_UP; i++) {
                c.ask("warm-up");
            }
            long reader0 = threads.getThreadAllocatedBytes(spread.readerThreadId());
            long relay0 = threads.getThreadAllocatedBytes(spread.relayThreadId());
            for (int i = 0; i < MEASURED; i++) {
                c.ask("measured");
            }
            double reader = (threads.getThreadAllocatedBytes(spread.readerThreadId()) - reader0) / (double) MEASURED;
            double relay = (threads.getThreadAllocatedBytes(spread.relayThreadId()) - relay0) / (double) MEASURED;
            System.out.printf("udp allocation, per packet over 3 backends: reader %.2f B/datagram, relay %.2f B/datagram%n",
                    reader, relay);

            // Each backend has its own connected leg: the relay's receive always sees the same
            // sender per channel, so the JDK's one-entry sender cache hits (an unconnected channel
            // shared by the three would decode a new sender address for almost every reply).
            assertTrue(reader < 4, "reader thread allocates " + reader + " B per datagram");
            assertTrue(relay < 4, "relay thread allocates " + relay + " B per datagram");
            assertEquals(1, spread.sessionCount());
        } finally {
            spread.close();
            b2.close();
            b3.close();
        }
    }

    @Test
    void aV2ProxyHeaderOnEveryDatagramAllocatesNothingInSteadyState() throws Exception {
        for (boolean perPacket : new boolean[] {false, true}) {
            EchoBackend b2 = EchoBackend.plain();
            UdpListener withHeader = new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    EchoBackend.pool(backend, b2),
                    new UdpSettings(Duration.ofSeconds(30), 0, false).withSessionMode(0, perPacket).withProxyHeader(true));
            withHeader.start();
            try (TestClient c = new TestClient(withHeader.localAddress())) {
                for (int i = 0; i < WARM_UP; i++) {
                    c.ask("warm-up");
                }
                long reader0 = threads.getThreadAllocatedBytes(withHeader.readerThreadId());
                long relay0 = threads.getThreadAllocatedBytes(withHeader.relayThreadId());
                for (int i = 0; i < MEASURED; i++) {
                    c.ask("measured");
                }
                double reader = (threads.getThreadAllocatedBytes(withHeader.readerThreadId()) - reader0) / (double) MEASURED;
                double relay = (threads.getThreadAllocatedBytes(withHeader.relayThreadId()) - relay0) / (double) MEASURED;
                System.out.printf("udp allocation, v2 PROXY header, per_packet=%s: reader %.2f B/datagram, relay %.2f B/datagram%n",
                        perPacket, reader, relay);

                // The header is encoded once per session; each datagram is one gathering write.
                assertTrue(reader < 4, "reader thread allocates " + reader + " B per datagram (per_packet=" + perPacket + ")");
                assertTrue(relay < 4, "relay thread allocates " + relay + " B per datagram (per_packet=" + perPacket + ")");
                assertEquals(1, withHeader.sessionCount());
            } finally {
                withHeader.close();
                b2.close();
            }
        }
    }

    @Test
    void acceptFromWithTwoClientsBehindOneSenderAllocatesNothingInSteadyState() throws Exception {
        UdpListener accepting = new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoBackend.pool(backend), new UdpSettings(Duration.ofSeconds(30), 0, false).withProxyHeader(true)
                        .withAcceptFrom(dev.aegis.config.Cidrs.parse(java.util.List.of("127.0.0.1/32"))));
        accepting.start();
        try (TestClient proxy = new TestClient(accepting.localAddress())) {
            // two clients the header names, alternating from one sender: the same sender address
            // every time (the JDK's cache hits), a different session each datagram
            byte[][] datagrams = {withHeader(new byte[] {10, 0, 0, 1}, 1111, accepting),
                    withHeader(new byte[] {10, 0, 0, 2}, 2222, accepting)};
            for (int i = 0; i < WARM_UP; i++) {
                proxy.send(datagrams[i & 1]);
                proxy.receive();
            }
            long reader0 = threads.getThreadAllocatedBytes(accepting.readerThreadId());
            long relay0 = threads.getThreadAllocatedBytes(accepting.relayThreadId());
            for (int i = 0; i < MEASURED; i++) {
                proxy.send(datagrams[i & 1]);
                proxy.receive();
            }
            double reader = (threads.getThreadAllocatedBytes(accepting.readerThreadId()) - reader0) / (double) MEASURED;
            double relay = (threads.getThreadAllocatedBytes(accepting.relayThreadId()) - relay0) / (double) MEASURED;
            System.out.printf("udp allocation, accept_from, two clients behind one sender: reader %.2f B/datagram, "
                    + "relay %.2f B/datagram%n", reader, relay);

            // The header is peeked into a reused holder and the session found with a reused probe key.
            assertTrue(reader < 4, "reader thread allocates " + reader + " B per datagram");
            assertTrue(relay < 4, "relay thread allocates " + relay + " B per datagram");
            assertEquals(2, accepting.sessionCount());
        } finally {
            accepting.close();
        }
    }

    private static byte[] withHeader(byte[] clientIp, int clientPort, UdpListener to) throws Exception {
        byte[] header = dev.aegis.proxyprotocol.ProxyHeaderEncoder.v2(dev.aegis.proxyprotocol.ProxyHeader.Transport.UDP,
                new InetSocketAddress(InetAddress.getByAddress(clientIp), clientPort), to.localAddress());
        byte[] all = java.util.Arrays.copyOf(header, header.length + 8);
        System.arraycopy("measured".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, all, header.length, 8);
        return all;
    }

    @Test
    void alternatingClientsCostOnlyTheSenderAddressTheJdkDecodes() throws Exception {
        try (TestClient a = new TestClient(listener.localAddress());
             TestClient b = new TestClient(listener.localAddress())) {
            for (int i = 0; i < WARM_UP; i++) {
                a.ask("warm-up");
                b.ask("warm-up");
            }
            long reader0 = threads.getThreadAllocatedBytes(listener.readerThreadId());
            long relay0 = threads.getThreadAllocatedBytes(listener.relayThreadId());
            for (int i = 0; i < MEASURED / 2; i++) {
                a.ask("measured");
                b.ask("measured");
            }
            double reader = (threads.getThreadAllocatedBytes(listener.readerThreadId()) - reader0) / (double) MEASURED;
            double relay = (threads.getThreadAllocatedBytes(listener.relayThreadId()) - relay0) / (double) MEASURED;
            System.out.printf("udp allocation, two alternating clients: reader %.2f B/datagram, relay %.2f B/datagram%n",
                    reader, relay);

            // DatagramChannel.receive decodes a new InetSocketAddress when the sender changes
            // (InetSocketAddress + holder + Inet4Address + holder, about 100 bytes); nothing more.
            assertTrue(reader < 160, "reader thread allocates " + reader + " B per datagram");
            assertTrue(relay < 4, "relay thread allocates " + relay + " B per datagram");
        }
    }
}
