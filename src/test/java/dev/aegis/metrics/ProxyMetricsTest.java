package dev.aegis.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.Aegis;
import dev.aegis.backend.Backend;
import dev.aegis.config.ConfigLoader;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyMetricsTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Aegis aegis;
    private ProxyMetrics metrics;
    private Path file;

    @AfterEach
    void tearDown() throws Exception {
        if (metrics != null) {
            metrics.close();
        }
        if (aegis != null) {
            aegis.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
        http.close();
    }

    private TcpEcho tcpBackend() throws IOException {
        TcpEcho echo = new TcpEcho();
        resources.add(echo);
        return echo;
    }

    private void start(String proxyYaml) throws Exception {
        file = dir.resolve("aegis.yaml");
        writeConfig(proxyYaml);
        // Built the way Daemon builds them: the recorder first, handed to the core, then the metrics.
        ConnectLatency latency = new ConnectLatency();
        aegis = new Aegis(file, ConfigLoader.load(file).config(), latency);
        aegis.start();
        metrics = new ProxyMetrics(aegis::status, latency);
        metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** The {@code proxy:} block plus admin servers on port 0 (never the defaults 9090/9091). */
    private void writeConfig(String proxyYaml) throws IOException {
        Files.writeString(file, proxyYaml + """
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  access_log: false
                """);
    }

    private static String tcpConfig(String listen, TcpEcho... backends) {
        StringBuilder b = new StringBuilder("""
                proxy:
                  listen:
                    tcp: "%s"
                  backends:
                """.formatted(listen));
        for (TcpEcho e : backends) {
            b.append("    - address: \"").append(e.id()).append("\"\n");
        }
        return b.toString();
    }

    private int tcpPort() {
        return aegis.service().tcpListener().orElseThrow().localAddress().getPort();
    }

    /** One proxied connection: sends {@code n} bytes, half-closes, reads the echo to the end. */
    private void roundTrip(int n) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcpPort())) {
            s.setSoTimeout(10_000);
            byte[] data = new byte[n];
            Arrays.fill(data, (byte) 'x');
            s.getOutputStream().write(data);
            s.shutdownOutput();
            assertEquals(n, s.getInputStream().readAllBytes().length);
        }
    }

    @Test
    void aRemovedServiceLeavesNoSeriesBehind() throws Exception {
        TcpEcho a = tcpBackend();
        TcpEcho b = tcpBackend();
        String two = "services:\n"
                + "  - name: alpha\n    listen: { tcp: \"127.0.0.1:0\" }\n    backends: [ { address: \"" + a.id() + "\" } ]\n"
                + "  - name: beta\n    listen: { tcp: \"127.0.0.1:0\" }\n    backends: [ { address: \"" + b.id() + "\" } ]\n";
        start(two);
        int betaPort = aegis.service("beta").orElseThrow().tcpListener().orElseThrow().localAddress().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), betaPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write('x');
            assertEquals('x', s.getInputStream().read());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(1,
                scrape().value("proxy_backend_connect_duration_seconds_count{backend=\"" + b.id() + "\",service=\"beta\"}")));
        writeConfig("services:\n"
                + "  - name: alpha\n    listen: { tcp: \"127.0.0.1:0\" }\n    backends: [ { address: \"" + a.id() + "\" } ]\n");
        assertTrue(aegis.reload().ok());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String text = scrape().text();
            assertFalse(text.contains("service=\"beta\""), text);
            assertTrue(text.contains("proxy_latency_avg_ms{service=\"alpha\"}"), text);
        });
    }

    @Test
    void aBackendRemovedByAReloadLeavesNoConnectTimeSeries() throws Exception {
        TcpEcho a = tcpBackend();
        TcpEcho b = tcpBackend();
        start(tcpConfig("127.0.0.1:0", a, b));
        roundTrip(1);
        roundTrip(1); // round robin: one connect to each
        String seriesOfB = "proxy_backend_connect_duration_seconds_count{backend=\"" + b.id() + "\",service=\"default\"}";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(1, scrape().value(seriesOfB)));
        writeConfig(tcpConfig("127.0.0.1:0", a));
        assertTrue(aegis.reload().ok());
        Scrape s = scrape();
        assertFalse(s.text().contains("backend=\"" + b.id() + "\""), s.text());
        assertEquals(1, s.value("proxy_backend_connect_duration_seconds_count{backend=\"" + a.id() + "\",service=\"default\"}"));
    }

    private Scrape scrape() throws Exception {
        return Scrape.parse(get("text/plain").body());
    }

    private HttpResponse<String> get(String accept) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.address().getPort() + "/metrics"))
                .header("Accept", accept).timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response;
    }

    @Test
    void countsConnectionsBytesBackendRequestsAndConnectTimesExactly() throws Exception {
        TcpEcho a = tcpBackend();
        TcpEcho b = tcpBackend();
        start(tcpConfig("127.0.0.1:0", a, b));
        Scrape before = scrape();
        assertEquals(0, before.value("proxy_total_connections_total{service=\"default\"}"));
        for (int i = 0; i < 5; i++) {
            roundTrip(100);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape s = scrape();
            assertEquals(0, s.value("proxy_active_connections{service=\"default\"}"), "active");
            assertEquals(5, s.value("proxy_total_connections_total{service=\"default\"}"), "total");
            assertEquals(500, s.value("proxy_bytes_received_total{service=\"default\"}"), "received");
            assertEquals(500, s.value("proxy_bytes_sent_total{service=\"default\"}"), "sent");
            assertEquals(5, s.sum("proxy_backend_connect_duration_seconds_count", "service=\"default\""), "histogram count");
            assertEquals(5, s.value("proxy_closed_connections_total{reason=\"client_closed\",service=\"default\"}"), "closed");
        });
        Scrape s = scrape();
        double toA = s.value("proxy_backend_requests_total{backend=\"" + a.id() + "\",service=\"default\"}");
        double toB = s.value("proxy_backend_requests_total{backend=\"" + b.id() + "\",service=\"default\"}");
        assertEquals(5, toA + toB);
        assertEquals(5, a.accepted.get() + b.accepted.get());
        assertEquals(a.accepted.get(), toA); // round robin: each backend's count is its own, not a share
        assertEquals(0, s.value("proxy_backend_failures_total{backend=\"" + a.id() + "\",service=\"default\"}"));
        assertEquals(0, s.value("proxy_backend_connections{backend=\"" + a.id() + "\",service=\"default\"}"));
        assertEquals(5, s.sum("proxy_backend_connect_duration_seconds_bucket", "service=\"default\"", "le=\"+Inf\""));
        // per backend: each backend's histogram counts its own connects
        assertEquals(toA, s.value("proxy_backend_connect_duration_seconds_count{backend=\"" + a.id() + "\",service=\"default\"}"));
        assertEquals(toB, s.value("proxy_backend_connect_duration_seconds_count{backend=\"" + b.id() + "\",service=\"default\"}"));
        double avg = s.value("proxy_latency_avg_ms{service=\"default\"}");
        double p99 = s.value("proxy_latency_p99_ms{service=\"default\"}");
        assertTrue(avg > 0 && avg < 5000, "avg " + avg);
        assertTrue(p99 > 0 && p99 <= 5000, "p99 " + p99);
        double sumSeconds = s.sum("proxy_backend_connect_duration_seconds_sum", "service=\"default\"");
        assertEquals(sumSeconds / 5 * 1000, avg, 1e-9);
    }

    @Test
    void countsRejectedConnectionsByReason() throws Exception {
        TcpEcho a = tcpBackend();
        start(tcpConfig("127.0.0.1:0", a));
        aegis.setDraining(true);
        refused();
        aegis.setDraining(false);
        aegis.removeBackend("default", "tcp", a.id());
        refused();
        refused();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape s = scrape();
            assertEquals(1, s.value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"draining\",service=\"default\"}"));
            assertEquals(2, s.value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"no_backend\",service=\"default\"}"));
            assertEquals(0, s.value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"rate_limited\",service=\"default\"}"));
            assertEquals(0, s.value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"max_connections\",service=\"default\"}"));
            assertEquals(3, s.value("proxy_total_connections_total{service=\"default\"}"));
            assertEquals(0, s.value("proxy_active_connections{service=\"default\"}"));
        });
        assertFalse(scrape().has("proxy_backend_requests_total{backend=\"" + a.id() + "\",service=\"default\"}"),
                "a removed backend is no longer exported");
    }

    @Test
    void exportsTheQueueLengthAndCountsQueueRejections() throws Exception {
        TcpEcho a = tcpBackend();
        start("""
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - address: "%s"
                      max_connections: 1
                  queue: {size: 1, timeout: 60s}
                """.formatted(a.id()));
        Socket holder = new Socket(InetAddress.getLoopbackAddress(), tcpPort());
        holder.setSoTimeout(10_000);
        holder.getOutputStream().write('h');
        assertEquals('h', holder.getInputStream().read()); // holds the only slot before the waiter comes
        try (holder; Socket waiter = new Socket(InetAddress.getLoopbackAddress(), tcpPort())) {
            waiter.setSoTimeout(10_000);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertEquals(1, scrape().value("proxy_queue_length{service=\"default\"}")));
            refused(); // the queue of 1 is full
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(1,
                    scrape().value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"queue_full\",service=\"default\"}")));

            holder.close(); // its slot goes to the waiter
            waiter.getOutputStream().write('w');
            assertEquals('w', waiter.getInputStream().read());
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertEquals(0, scrape().value("proxy_queue_length{service=\"default\"}")));
        }
    }

    /** A connection the proxy closes at once: the client reads EOF (or a reset) and no byte. */
    private void refused() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcpPort())) {
            s.setSoTimeout(10_000);
            try {
                assertEquals(-1, s.getInputStream().read());
            } catch (IOException reset) {
                // closed with unread data: also a refusal
            }
        }
    }

    @Test
    void exportsBackendHealthAndCircuitState() throws Exception {
        TcpEcho a = tcpBackend();
        TcpEcho b = tcpBackend();
        start(tcpConfig("127.0.0.1:0", a, b));
        String healthyA = "proxy_backend_healthy{backend=\"" + a.id() + "\",pool=\"tcp\",service=\"default\"}";
        String circuitB = "proxy_backend_circuit_state{backend=\"" + b.id() + "\",pool=\"tcp\",service=\"default\"}";
        Scrape s = scrape();
        assertEquals(1, s.value(healthyA));
        assertTrue(s.has(circuitB));
        assertEquals(0, s.value(circuitB));
        Backend backendA = aegis.service().tcpPool().current().find(a.id());
        Backend backendB = aegis.service().tcpPool().current().find(b.id());
        backendA.setHealthy(false);
        for (int i = 0; i < 5; i++) {
            backendB.recordFailure(); // error_threshold defaults to 5
        }
        s = scrape();
        assertEquals(0, s.value(healthyA));
        assertEquals(2, s.value(circuitB));
        assertEquals(5, s.value("proxy_backend_failures_total{backend=\"" + b.id() + "\",service=\"default\"}"));
    }

    @Test
    void countsUdpSessionsPacketsAndBytes() throws Exception {
        UdpEcho echo = new UdpEcho();
        resources.add(echo);
        start("""
                proxy:
                  listen:
                    udp: "127.0.0.1:0"
                  backends:
                    - address: "127.0.0.1:%d"
                """.formatted(echo.port()));
        InetSocketAddress proxy = aegis.service().udpListener().orElseThrow().localAddress();
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            client.setSoTimeout(10_000);
            for (int i = 0; i < 3; i++) {
                byte[] data = "ping-%d".formatted(i).getBytes(); // 6 bytes
                client.send(new DatagramPacket(data, data.length, proxy));
                DatagramPacket reply = new DatagramPacket(new byte[64], 64);
                client.receive(reply);
                assertEquals(6, reply.getLength());
            }
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape s = scrape();
            assertEquals(1, s.value("proxy_udp_active_sessions{service=\"default\"}"));
            assertEquals(1, s.value("proxy_udp_sessions_total{service=\"default\"}"));
            assertEquals(3, s.value("proxy_udp_packets_total{direction=\"from_client\",service=\"default\"}"));
            assertEquals(3, s.value("proxy_udp_packets_total{direction=\"to_client\",service=\"default\"}"));
            assertEquals(18, s.value("proxy_udp_bytes_total{direction=\"from_client\",service=\"default\"}"));
            assertEquals(18, s.value("proxy_udp_bytes_total{direction=\"to_client\",service=\"default\"}"));
            assertEquals(0, s.value("proxy_udp_dropped_total{reason=\"no_backend\",service=\"default\"}"));
        });
        String id = "127.0.0.1:" + echo.port();
        Scrape s = scrape();
        assertEquals(1, s.value("proxy_backend_connections{backend=\"" + id + "\",service=\"default\"}"), "the live session");
        assertEquals(1, s.value("proxy_backend_requests_total{backend=\"" + id + "\",service=\"default\"}"));
        assertEquals(1, s.value("proxy_backend_healthy{backend=\"" + id + "\",pool=\"udp\",service=\"default\"}"));
    }

    @Test
    void countsReloadsByResultAndKeepsCountersWhenTheListenerMoves() throws Exception {
        TcpEcho a = tcpBackend();
        start(tcpConfig("127.0.0.1:0", a));
        roundTrip(10);
        Files.writeString(file, "proxy: [broken");
        assertFalse(aegis.reload().ok());
        writeConfig(tcpConfig("localhost:0", a)); // a new listen address: bound anew
        int oldPort = tcpPort();
        assertTrue(aegis.reload().ok());
        assertTrue(tcpPort() != oldPort, "the listener moved");
        roundTrip(10);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape s = scrape();
            assertEquals(1, s.value("proxy_config_reloads_total{result=\"ok\"}"));
            assertEquals(1, s.value("proxy_config_reloads_total{result=\"failed\"}"));
            assertEquals(2, s.value("proxy_total_connections_total{service=\"default\"}"), "both listeners counted");
            assertEquals(20, s.value("proxy_bytes_received_total{service=\"default\"}"));
            assertEquals(2, s.sum("proxy_backend_connect_duration_seconds_count", "service=\"default\""), "new listener observed too");
        });
    }

    @Test
    void exportsJvmAndProcessMetrics() throws Exception {
        start(tcpConfig("127.0.0.1:0", tcpBackend()));
        Scrape s = scrape();
        assertTrue(s.value("jvm_memory_used_bytes{area=\"heap\"}") > 0, s.text());
        assertTrue(s.value("jvm_memory_committed_bytes{area=\"nonheap\"}") > 0);
        assertTrue(s.value("jvm_threads_current") > 0);
        assertTrue(s.value("process_start_time_seconds") > 1.5e9);
        assertTrue(s.text().contains("jvm_gc_collections_total{gc="), s.text());
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertTrue(s.value("process_open_fds") > 0);
            assertTrue(s.value("process_resident_memory_bytes") > 1_000_000);
        }
    }

    @Test
    void servesOpenMetricsWhenAsked() throws Exception {
        start(tcpConfig("127.0.0.1:0", tcpBackend()));
        roundTrip(1); // the histogram has a series once a backend was connected
        HttpResponse<String> r = get("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
        assertTrue(r.body().contains("# TYPE proxy_total_connections counter"), r.body());
        assertTrue(r.body().contains("# UNIT proxy_backend_connect_duration_seconds seconds"), r.body());
        assertTrue(r.body().endsWith("# EOF\n"));
    }

    @Test
    void startOnABusyAddressThrowsNamingIt() throws Exception {
        start(tcpConfig("127.0.0.1:0", tcpBackend()));
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ProxyMetrics other = new ProxyMetrics(aegis::status, new ConnectLatency())) {
            IOException e = assertThrows(IOException.class,
                    () -> other.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort())));
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }

    /**
     * promtool may only complain about what the original names carry by themselves (SPEC §6):
     * the milliseconds in proxy_latency_avg_ms and proxy_latency_p99_ms.
     */
    @Test
    void promtoolFindsNothingButTheOriginalNamesOwnLints() throws Exception {
        String promtool = PromtoolLint.find();
        assumeTrue(promtool != null, "promtool not on PATH: lint check skipped (CI installs it)");
        UdpEcho echo = new UdpEcho();
        resources.add(echo);
        TcpEcho a = tcpBackend();
        start("""
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                    udp: "127.0.0.1:0"
                  backends:
                    - address: "%s"
                  udp_backends:
                    - address: "127.0.0.1:%d"
                """.formatted(a.id(), echo.port()));
        roundTrip(10);
        List<String> problems = PromtoolLint.check(promtool, get("text/plain").body());
        List<String> unexpected = problems.stream().filter(p -> !PromtoolLint.expected(p)).toList();
        assertEquals(List.of(), unexpected, "all promtool output: " + problems);
    }
}
