package dev.aegis.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's {@code prometheus}) scrapes a running Aegis every second
 * with the shipped alert rules loaded: a query over {@code proxy_backend_requests_total} returns
 * the connections the test sent, the rules load and evaluate with health ok, and every dashboard
 * query (variables filled in as Grafana would) is valid PromQL to that server (SPEC §12).
 */
class PrometheusServerTest {

    private static final int CONNECTIONS = 25;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private LiveAegis live;
    private Process prometheus;
    private int port;

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(30, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        if (live != null) {
            live.close();
        }
        http.close();
    }

    private static String findPrometheus() {
        String path = System.getenv("PATH");
        for (String d : (path == null ? "" : path).split(File.pathSeparator)) {
            File f = new File(d, "prometheus");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private void startPrometheus(String executable) throws Exception {
        Path rules = AlertRulesTest.RULES.toAbsolutePath();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files:
                  - "%s"
                scrape_configs:
                  - job_name: aegis
                    static_configs:
                      - targets: ["127.0.0.1:%d"]
                """.formatted(rules, live.metricsAddress().getPort()));
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort(); // Prometheus takes no port 0: a port that was free a moment ago
        }
        prometheus = new ProcessBuilder(executable,
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            assertTrue(prometheus.isAlive(), () -> "prometheus exited: " + log());
            try {
                return get("/-/ready").statusCode() == 200;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private HttpResponse<String> get(String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** An instant query's response, asserting the API accepted it. */
    private JsonNode query(String promql) throws Exception {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode body = json.readTree(r.body());
        assertEquals("success", body.path("status").asText(), promql + ": " + r.body());
        return body.path("data").path("result");
    }

    /** The value of a one-series instant query, or NaN while it has none. */
    private double scalar(String promql) throws Exception {
        JsonNode result = query(promql);
        return result.size() == 1 ? result.get(0).path("value").get(1).asDouble() : Double.NaN;
    }

    @Test
    void prometheusScrapesAegisCountsTheTrafficAndLoadsTheAlertRules() throws Exception {
        String executable = findPrometheus();
        assumeTrue(executable != null, "prometheus not on PATH: skipped (CI installs the prometheus package)");
        live = new LiveAegis(dir);
        startPrometheus(executable);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertEquals(1, scalar("up{job=\"aegis\"}"), () -> "Aegis not scraped: " + log()));

        for (int i = 0; i < CONNECTIONS; i++) {
            live.tcpRoundTrip();
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertEquals(CONNECTIONS, scalar("sum(proxy_backend_requests_total{job=\"aegis\"})")));
        assertEquals(CONNECTIONS, scalar("sum(proxy_total_connections_total{job=\"aegis\",service=\"web\"})"));
        assertEquals(CONNECTIONS, scalar("sum(proxy_backend_connect_duration_seconds_count{job=\"aegis\"})"));
        assertEquals(2, query("proxy_backend_connect_duration_seconds_count{service=\"web\"}").size(),
                "one connect-time series per backend of web");

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode groups = json.readTree(get("/api/v1/rules").body()).path("data").path("groups");
            List<String> loaded = new ArrayList<>();
            for (JsonNode group : groups) {
                for (JsonNode rule : group.path("rules")) {
                    assertEquals("ok", rule.path("health").asText(), rule.toString());
                    loaded.add(rule.path("name").asText());
                }
            }
            assertEquals(new TreeSet<>(List.of("AegisInstanceDown", "AegisBackendDown", "AegisPoolNoBackendUp",
                    "AegisCircuitOpen", "AegisRejectionsRising", "AegisReloadFailing", "AegisUdpDrops")), new TreeSet<>(loaded));
        });
        // nothing is wrong with this Aegis: no alert pending or firing
        assertEquals(0, query("ALERTS").size(), () -> "alerts: " + log());

        // every dashboard query, its variables filled in the way Grafana does, is valid PromQL here
        Map<String, String> variables = Map.of("$__rate_interval", "1m", "$__range", "5m",
                "$service", ".*", "$backend", ".*");
        for (Map.Entry<String, String> q : AlertsAndDashboardNamesTest.dashboardQueries().entrySet()) {
            if (q.getValue().startsWith("label_values(")) {
                continue; // a Grafana function, not PromQL
            }
            String promql = q.getValue();
            for (Map.Entry<String, String> v : variables.entrySet()) {
                promql = promql.replace(v.getKey(), v.getValue());
            }
            query(promql);
        }
    }
}
