package dev.aegis.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HealthCheckConfig.Scheme;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HealthProbeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private static HostPort name(InetSocketAddress a) {
        return new HostPort("127.0.0.1", a.getPort());
    }

    private static String failureOf(HealthProbe probe, HostPort name, InetSocketAddress target, Duration timeout) {
        IOException e = assertThrows(IOException.class, () -> probe.check(name, target, timeout));
        return HealthChecker.reasonOf(e);
    }

    private static InetSocketAddress closedTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
    }

    @Test
    void tcpProbePassesAgainstAListeningPort() throws IOException {
        try (HttpBackend backend = new HttpBackend()) {
            new TcpProbe().check(name(backend.address()), backend.address(), TIMEOUT);
        }
    }

    @Test
    void tcpProbeFailsAgainstAClosedPortWithConnectRefused() throws IOException {
        InetSocketAddress closed = closedTcpPort();
        assertEquals("connect refused", failureOf(new TcpProbe(), name(closed), closed, TIMEOUT));
    }

    @Test
    void httpProbeSendsTheConfiguredHostConnectionCloseAndItsUserAgent() throws IOException {
        try (HttpBackend backend = new HttpBackend()) {
            HostPort configured = new HostPort("localhost", backend.port());
            new HttpProbe("/health", false).check(configured, backend.address(), TIMEOUT);
            String request = backend.requests.get(0);
            assertTrue(request.startsWith("GET /health HTTP/1.1\r\n"), request);
            assertTrue(request.contains("\r\nHost: localhost:" + backend.port() + "\r\n"), request);
            assertTrue(request.contains("\r\nConnection: close\r\n"), request);
            assertTrue(request.contains("\r\nUser-Agent: aegis-health\r\n"), request);
            assertTrue(request.endsWith("\r\n\r\n"), request);
        }
    }

    @Test
    void httpProbePassesOnTwoHundredsAndThreeHundredsOnly() throws IOException {
        try (HttpBackend backend = new HttpBackend()) {
            HttpProbe probe = new HttpProbe("health", false);
            for (int status : new int[] {200, 204, 301, 399}) {
                backend.status.set(status);
                probe.check(name(backend.address()), backend.address(), TIMEOUT);
            }
            assertEquals("GET /health HTTP/1.1", backend.requests.get(0).lines().findFirst().orElseThrow());
            for (int status : new int[] {199, 404, 500, 503}) {
                backend.status.set(status);
                assertEquals("status " + status, failureOf(probe, name(backend.address()), backend.address(), TIMEOUT));
            }
        }
    }

    @Test
    void statusLinesAreParsedStrictly() throws IOException {
        HttpProbe.checkStatus("HTTP/1.0 302 Found");
        HttpProbe.checkStatus("HTTP/1.1 200");
        assertThrows(ProbeFailedException.class, () -> HttpProbe.checkStatus("SSH-2.0-OpenSSH_9.6"));
        assertThrows(ProbeFailedException.class, () -> HttpProbe.checkStatus("HTTP/1.1 2x0 OK"));
        assertThrows(ProbeFailedException.class, () -> HttpProbe.checkStatus(""));
    }

    @Test
    void httpProbeFailsByTimeoutAgainstABackendThatNeverAnswers() throws IOException {
        try (HangingBackend backend = new HangingBackend()) {
            assertEquals("timeout", failureOf(new HttpProbe("/health", false), name(backend.address()),
                    backend.address(), Duration.ofMillis(200)));
        }
    }

    @Test
    void httpsProbeFailsTheHandshakeAgainstAPlainHttpPort() throws IOException {
        try (HttpBackend backend = new HttpBackend()) {
            String reason = failureOf(new HttpProbe("/health", true), name(backend.address()), backend.address(), TIMEOUT);
            assertTrue(reason.startsWith("tls: "), reason);
            assertEquals(0, backend.passed.get() + backend.failed.get(), "no HTTP request went out in clear");
        }
    }

    @Test
    void udpProbePassesAgainstAnEchoBackend() throws IOException {
        try (UdpEcho echo = new UdpEcho(false)) {
            new UdpProbe().check(name(echo.address()), echo.address(), TIMEOUT);
            assertEquals(1, echo.received.get());
        }
    }

    @Test
    void udpProbeFailsAgainstAClosedPort() throws IOException {
        InetSocketAddress closed;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            closed = new InetSocketAddress(s.getLocalAddress(), s.getLocalPort());
        }
        // ICMP "port unreachable" normally; a timeout if the kernel rate-limited that ICMP
        String reason = failureOf(new UdpProbe(), name(closed), closed, Duration.ofMillis(500));
        assertTrue(Set.of("port unreachable", "timeout").contains(reason), reason);
    }

    @Test
    void udpProbeFailsByTimeoutWhenTheBackendNeverReplies() throws IOException {
        try (UdpEcho silent = new UdpEcho(true)) {
            assertEquals("timeout", failureOf(new UdpProbe(), name(silent.address()), silent.address(), Duration.ofMillis(200)));
            assertEquals(1, silent.received.get());
        }
    }

    @Test
    void probesFailOnAnUnresolvedAddress() {
        InetSocketAddress nowhere = InetSocketAddress.createUnresolved("backend.invalid", 3000);
        HostPort name = new HostPort("backend.invalid", 3000);
        assertEquals("unresolved address", failureOf(new TcpProbe(), name, nowhere, TIMEOUT));
        assertEquals("unresolved address", failureOf(new UdpProbe(), name, nowhere, TIMEOUT));
    }

    @Test
    void theProbeFollowsTheCheckConfigAndThePool() {
        HealthCheckConfig http = config(Optional.of("/health"), Scheme.HTTP);
        HealthCheckConfig https = config(Optional.of("/health"), Scheme.HTTPS);
        HealthCheckConfig bare = config(Optional.empty(), Scheme.HTTP);
        assertEquals(new HttpProbe("/health", false), HealthProbe.of(http, false));
        assertEquals(new HttpProbe("/health", true), HealthProbe.of(https, false));
        assertEquals(new HttpProbe("/health", false), HealthProbe.of(http, true));
        assertInstanceOf(TcpProbe.class, HealthProbe.of(bare, false));
        assertInstanceOf(UdpProbe.class, HealthProbe.of(bare, true));
    }

    private static HealthCheckConfig config(Optional<String> path, Scheme scheme) {
        return new HealthCheckConfig(Duration.ofSeconds(5), Duration.ofSeconds(2), path, scheme, 2, 3);
    }
}
