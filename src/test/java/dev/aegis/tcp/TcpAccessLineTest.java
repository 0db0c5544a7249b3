package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.LoadBalancingConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TcpAccessLineTest {

    @Test
    void accessLineNamesTheServiceRightAfterTheProtocol() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);

        String line = TcpConnection.accessLine("postgres", client, "10.0.0.5:5432", 7, 120, 1234, "client_closed", null);

        assertEquals("access protocol=tcp service=postgres client_ip=1.2.3.4:5555 backend=10.0.0.5:5432"
                + " bytes_sent=7 bytes_received=120 duration_ms=1234 reason=client_closed", line);
    }

    @Test
    void settingsWithoutAServiceBelongToDefault() {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0,
                false);
        assertEquals("default", s.service());
        assertEquals("dns", s.withService("dns").service());
        assertEquals(s.idleTimeout(), s.withService("dns").idleTimeout());
    }

    @Test
    void aProxyHeadersClientIsTheClientAndTheSenderThePeer() throws Exception {
        String line = TcpConnection.accessLine("web", new java.net.InetSocketAddress("192.0.2.10", 40000),
                new java.net.InetSocketAddress("127.0.0.1", 5555), "b1", 1, 2, 3, "client_closed", null);
        assertEquals("access protocol=tcp service=web client_ip=192.0.2.10:40000 peer=127.0.0.1:5555 backend=b1 "
                + "bytes_sent=1 bytes_received=2 duration_ms=3 reason=client_closed", line);
    }

    @Test
    void triedListsTheFailedBackendsAndConnectMsTheChosenOnesConnectTime() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);

        String line = TcpConnection.accessLine("web", client, null, "10.0.0.7:80", "10.0.0.5:80,10.0.0.6:80",
                1_234_567, 7, 120, 15, "client_closed", null);

        assertEquals("access protocol=tcp service=web client_ip=1.2.3.4:5555 backend=10.0.0.7:80"
                + " tried=10.0.0.5:80,10.0.0.6:80 bytes_sent=7 bytes_received=120 duration_ms=15 connect_ms=1.234"
                + " reason=client_closed", line);
    }

    @Test
    void connectMsKeepsItsLeadingZerosAndIsAbsentWithoutABackend() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);

        assertTrue(TcpConnection.accessLine("web", client, null, "b", null, 45_000, 0, 0, 0, "client_closed", null)
                .contains(" connect_ms=0.045 "));
        String rejected = TcpConnection.accessLine("web", client, null, "-", null, -1, 0, 0, 0, "no_backend", null);
        assertFalse(rejected.contains("connect_ms="), rejected);
        assertFalse(rejected.contains("tried="), rejected);
    }

    private static final Pattern TRIED = Pattern.compile(" backend=(\\S+) tried=(\\S+) ");
    private static final Pattern CONNECT_MS = Pattern.compile(" connect_ms=(\\d+)\\.(\\d{3}) ");

    @Test
    void aDeadFirstBackendShowsInTriedOfTheLineOfTheBackendThatAnswered() throws Exception {
        int dead = TestServers.closedPort();
        List<String> lines = new CopyOnWriteArrayList<>();
        String deadId;
        String liveId;
        try (var live = TestServers.echo();
                var proxy = new ProxyFixture(
                        new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0, true),
                        List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), dead), live.address()), 0,
                        new CircuitBreakerConfig(5, Duration.ofSeconds(30)), LoadBalancingConfig.Algorithm.ROUND_ROBIN,
                        UnaryOperator.identity(), lines::add)) {
            deadId = proxy.pool.current().backends().get(0).id();
            liveId = proxy.pool.current().backends().get(1).id();
            // round robin: of two connections, at least one picks the dead backend first and is retried on the live one
            for (int i = 0; i < 2; i++) {
                try (Socket s = proxy.connect()) {
                    s.getOutputStream().write(i);
                    assertEquals(i, s.getInputStream().read());
                }
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> lines.size() == 2);
        }
        String retried = lines.stream().filter(l -> l.contains(" tried=")).findFirst()
                .orElseThrow(() -> new AssertionError("no line with tried=: " + lines));
        Matcher m = TRIED.matcher(retried);
        assertTrue(m.find(), retried);
        assertEquals(liveId, m.group(1), "the backend that answered");
        assertEquals(deadId, m.group(2), "the dead one it tried first");
        for (String line : lines) {
            assertTrue(CONNECT_MS.matcher(line).find(), "connect_ms= with three decimals: " + line);
        }
    }
}
