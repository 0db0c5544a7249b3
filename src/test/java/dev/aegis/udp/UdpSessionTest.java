package dev.aegis.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UdpSessionTest {

    private static Backend backend() {
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), 5001);
        return new Backend(new BackendConfig(new HostPort("127.0.0.1", 5001), 100, 0, Optional.empty()), addr,
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
    }

    private static UdpSession open(InetSocketAddress client) throws java.io.IOException {
        Backend b = backend();
        return UdpSession.open(client, b, java.nio.channels.DatagramChannel.open(), b.address(),
                dev.aegis.traffic.TokenBucket.UNLIMITED);
    }

    @Test
    void accessLineHasTheSpecFieldsWithNginxMeaningOfSentAndReceived() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);
        UdpSession s = open(client);
        try {
            long t = s.createdNanos;
            s.countFromClient(100, t);
            s.countFromClient(20, t);
            s.countToClient(7, t);

            String line = s.accessLine(EndReason.IDLE_TIMEOUT, t + Duration.ofMillis(1234).toNanos());

            assertEquals("access protocol=udp service=default client_ip=1.2.3.4:5555 backend=127.0.0.1:5001 bytes_sent=7"
                    + " bytes_received=120 packets_sent=1 packets_received=2 duration_ms=1234 reason=idle_timeout", line);
        } finally {
            s.leg.channel.close();
        }
    }

    @Test
    void everySessionGetsAPortOfItsOwn() throws Exception {
        // Sessions share no port, or a backend could not tell two clients apart and the replies of
        // one would reach the other. (SO_REUSEADDR set before the bind made Linux hand out ports
        // twice: about 18 in 1,000.)
        java.util.List<UdpSession> sessions = new java.util.ArrayList<>();
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        try {
            for (int i = 0; i < 1000; i++) {
                UdpSession s = open(new InetSocketAddress(InetAddress.getLoopbackAddress(), 10_000 + i));
                sessions.add(s);
                ports.add(((InetSocketAddress) s.leg.channel.getLocalAddress()).getPort());
            }
        } finally {
            for (UdpSession s : sessions) {
                s.leg.channel.close();
            }
        }
        assertEquals(1000, ports.size());
    }

    @Test
    void perPacketAccessLineNamesEveryBackendUsedAndTheService() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);
        UdpSession s = UdpSession.perPacket(client, dev.aegis.traffic.TokenBucket.UNLIMITED, 0, 0, "syslog");
        try {
            assertTrue(s.accessLine(EndReason.IDLE_TIMEOUT, s.createdNanos).contains(" backend=- "));
            Backend a = backend();
            Backend b = new Backend(new BackendConfig(new HostPort("127.0.0.1", 5002), 100, 0, Optional.empty()),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 5002),
                    new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
            s.addLeg(BackendLeg.open(s, a, java.nio.channels.DatagramChannel.open(), a.address()));
            s.addLeg(BackendLeg.open(s, b, java.nio.channels.DatagramChannel.open(), b.address()));

            String line = s.accessLine(EndReason.IDLE_TIMEOUT, s.createdNanos);

            assertTrue(line.startsWith("access protocol=udp service=syslog client_ip=1.2.3.4:5555"
                    + " backend=127.0.0.1:5001,127.0.0.1:5002 "), line);
        } finally {
            s.closeLegs();
        }
    }

    @Test
    void ipv6ClientIsWrittenInBrackets() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("::1"), 5555);
        assertEquals("[::1]:5555", UdpSession.format(client));
    }

    @Test
    void endsOnceAndReportsItsOutcomeOnce() throws Exception {
        UdpSession s = open(new InetSocketAddress(InetAddress.getLoopbackAddress(), 4000));
        try {
            assertFalse(s.isEnded());
            assertTrue(s.markEnded());
            assertFalse(s.markEnded());
            assertTrue(s.isEnded());
            assertFalse(s.outcomeReported());
            assertTrue(s.claimOutcome());
            assertFalse(s.claimOutcome());
            assertTrue(s.outcomeReported());
        } finally {
            s.leg.channel.close();
        }
    }
}
