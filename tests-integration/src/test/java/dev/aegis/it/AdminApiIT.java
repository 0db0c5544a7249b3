package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin API (SPEC §5), the metrics endpoint (§6) and the {@code bin/aegis} commands that
 * call the API (§2), black-box against a running {@code bin/aegis start}. Every test skips (an
 * assumption, not a failure) while the Aegis under test has no admin API: it must log
 * {@code admin=ADDR} in its {@code aegis started} line and answer {@code GET /health} there.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class AdminApiIT {

    private static final String FAST_HTTP_CHECK = ConfigYaml.healthCheck("200ms", "/health", 1, 1);

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    /** Whether the Aegis under test has an admin API: learnt from the first start, so later tests skip at once. */
    private static volatile Boolean apiPresent;

    /** Starts Aegis and skips the test unless it serves the admin API. */
    private AegisProcess startWithAdmin(String name, String yaml, Map<String, String> env) {
        String why = "admin API not merged yet (no admin= in the started line, or it does not answer)";
        assumeTrue(apiPresent == null || apiPresent, why);
        AegisProcess aegis = resources.add(AegisProcess.start(name, yaml, env));
        apiPresent = adminAvailable(aegis);
        assumeTrue(apiPresent, why);
        return aegis;
    }

    private AegisProcess startWithAdmin(String name, String yaml) {
        return startWithAdmin(name, yaml, Map.of());
    }

    static boolean adminAvailable(AegisProcess aegis) {
        return aegis.admin().map(AdminHttp::answers).orElse(false);
    }

    private static AdminHttp admin(AegisProcess aegis) {
        return new AdminHttp(aegis.admin().orElseThrow());
    }

    private HttpNameBackend http(String name) {
        return resources.add(HttpNameBackend.start(name));
    }

    @Test
    void healthIsOkThenDegradedThenDownWith503() {
        HttpNameBackend b1 = http("backend1");
        HttpNameBackend b2 = http("backend2");
        UdpEchoBackend u = resources.add(UdpEchoBackend.start("u"));
        AegisProcess aegis = startWithAdmin("admin-health", new ConfigYaml().withUdp()
                .backends(List.of(b1.address(), b2.address()), FAST_HTTP_CHECK)
                .udpBackends(List.of(u.address()))
                .build());
        AdminHttp api = admin(aegis);

        AdminHttp.Answer ok = api.get("/health");
        assertEquals(200, ok.status(), ok::toString);
        assertEquals("ok", ok.json().path("status").asText(), ok::toString);
        assertTrue(ok.json().path("backends").path(b1.address()).asBoolean(), ok::toString);
        assertTrue(ok.json().path("backends").path(b2.address()).asBoolean(), ok::toString);
        assertTrue(ok.json().path("udp_backends").path(u.address()).asBoolean(), "udp_backends shown when configured: " + ok);

        b1.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/health").json().path("status").asText().equals("degraded"));
        AdminHttp.Answer degraded = api.get("/health");
        assertEquals(200, degraded.status());
        assertFalse(degraded.json().path("backends").path(b1.address()).asBoolean(true), degraded::toString);

        b2.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/health").status() == 503);
        assertEquals("down", api.get("/health").json().path("status").asText());
    }

    @Test
    void statusShowsVersionListenersGenerationAndEveryBackend() throws IOException {
        HttpNameBackend b1 = http("backend1");
        HttpNameBackend b2 = http("backend2");
        AegisProcess aegis = startWithAdmin("admin-status", new ConfigYaml()
                .backends(List.of(b1.address(), b2.address())).build());
        Clients.whoAnswers(aegis.tcp());
        Clients.whoAnswers(aegis.tcp());

        AdminHttp.Answer status = admin(aegis).get("/status");
        assertEquals(200, status.status(), status::toString);
        JsonNode s = status.json();
        assertFalse(s.path("version").asText().isEmpty(), status::toString);
        assertEquals(1, s.path("generation").asLong(), status::toString);
        assertFalse(s.path("draining").asBoolean(true), status::toString);
        assertTrue(status.body().contains(Integer.toString(aegis.tcpPort())), "listeners shown: " + status);
        assertTrue(status.body().contains("round_robin"), "algorithm shown: " + status);
        assertTrue(s.has("config"), "the effective config: " + status);
        Set<String> addresses = new HashSet<>();
        for (JsonNode b : s.path("backends")) {
            addresses.add(b.path("address").asText());
            assertEquals(100, b.path("weight").asInt(), b::toString);
            assertTrue(b.path("healthy").asBoolean(), b::toString);
            assertEquals("closed", b.path("circuit").asText(), b::toString);
        }
        assertEquals(Set.of(b1.address(), b2.address()), addresses);
    }

    @Test
    void reloadAppliesAValidFileAndRejectsABrokenOneWith400() throws IOException {
        HttpNameBackend first = http("first");
        HttpNameBackend second = http("second");
        AegisProcess aegis = startWithAdmin("admin-reload", new ConfigYaml().backends(List.of(first.address())).build());
        AdminHttp api = admin(aegis);

        aegis.writeConfig(new ConfigYaml().backends(List.of(second.address())).build());
        AdminHttp.Answer ok = api.post("/reload", null);
        assertEquals(200, ok.status(), ok::toString);
        assertEquals("reloaded", ok.json().path("status").asText());
        assertEquals(2, ok.json().path("generation").asLong());
        assertEquals("second", Clients.whoAnswers(aegis.tcp()));

        aegis.writeConfig(new ConfigYaml().backends(List.of(first.address(), "127.0.0.1:70000")).build());
        AdminHttp.Answer rejected = api.post("/reload", null);
        assertEquals(400, rejected.status(), rejected::toString);
        assertEquals("rejected", rejected.json().path("status").asText());
        assertTrue(rejected.json().path("errors").toString().contains("proxy.backends[1].address"), rejected::toString);
        assertEquals("second", Clients.whoAnswers(aegis.tcp()), "a rejected reload changes nothing");
    }

    @Test
    void drainRefusesNewConnectionsWhileOpenOnesCarryOnAndResumeUndoesIt() throws IOException {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("E", true));
        AegisProcess aegis = startWithAdmin("admin-drain", new ConfigYaml().backends(List.of(echo.address())).build());
        AdminHttp api = admin(aegis);
        EchoConnection open = resources.add(new EchoConnection(aegis.tcp(), 1));
        open.exchange(1000);

        AdminHttp.Answer drain = api.post("/drain", null);
        assertEquals(200, drain.status(), drain::toString);
        assertTrue(api.get("/status").json().path("draining").asBoolean(), "status says draining");
        Clients.Transfer refused = Clients.echo(aegis.tcp(), 2, 1000, 1000, 0, true);
        assertFalse(refused.intact(), "a new connection while draining must not be served: " + refused);
        open.exchange(50_000);

        AdminHttp.Answer resume = api.post("/resume", null);
        assertEquals(200, resume.status(), resume::toString);
        Clients.Transfer served = Clients.echo(aegis.tcp(), 3, 1000, 1000, 0, true);
        assertTrue(served.intact(), served::toString);
        assertTrue(open.finish());
    }

    @Test
    void backendsAreListedAddedAndRemovedAtRunTime() throws IOException {
        HttpNameBackend b1 = http("backend1");
        HttpNameBackend b2 = http("backend2");
        AegisProcess aegis = startWithAdmin("admin-backends", new ConfigYaml().backends(List.of(b1.address())).build());
        AdminHttp api = admin(aegis);

        AdminHttp.Answer list = api.get("/backends");
        assertEquals(200, list.status(), list::toString);
        JsonNode one = list.json().path("backends").path(0);
        assertEquals(b1.address(), one.path("address").asText(), list::toString);
        for (String field : List.of("weight", "healthy", "circuit_state", "active_connections", "total_requests", "failed_requests")) {
            assertTrue(one.has(field), "GET /backends shows " + field + ": " + list);
        }

        AdminHttp.Answer added = api.post("/backends", "{\"address\":\"" + b2.address() + "\",\"weight\":100}");
        assertEquals(201, added.status(), added::toString);
        assertEquals(409, api.post("/backends", "{\"address\":\"" + b2.address() + "\"}").status());
        assertEquals(400, api.post("/backends", "{\"address\":\"not an address\"}").status());
        assertEquals(400, api.post("/backends", "{not json").status());
        List<String> both = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            both.add(Clients.whoAnswers(aegis.tcp()));
        }
        assertEquals(Set.of("backend1", "backend2"), new HashSet<>(both));

        AdminHttp.Answer removed = api.delete("/backends/" + URLEncoder.encode(b1.address(), StandardCharsets.UTF_8));
        assertEquals(200, removed.status(), removed::toString);
        for (int i = 0; i < 4; i++) {
            assertEquals("backend2", Clients.whoAnswers(aegis.tcp()));
        }
        assertEquals(404, api.delete("/backends/127.0.0.1:1").status());
    }

    @Test
    void unknownPathIs404AndWrongMethodIs405WithAllowAndJsonBodies() {
        HttpNameBackend b1 = http("backend1");
        AegisProcess aegis = startWithAdmin("admin-errors", new ConfigYaml().backends(List.of(b1.address())).build());
        AdminHttp api = admin(aegis);

        AdminHttp.Answer missing = api.get("/no/such/thing");
        assertEquals(404, missing.status());
        assertNotNull(missing.json(), "error bodies are JSON");
        AdminHttp.Answer wrong = api.method("DELETE", "/health");
        assertEquals(405, wrong.status(), wrong::toString);
        assertNotNull(wrong.header("Allow"), "405 names the allowed methods");
        assertTrue(wrong.header("Allow").contains("GET"), wrong.header("Allow"));
        assertNotNull(wrong.json());
    }

    @Test
    void tokenGuardsPostAndDeleteAndTheEnvironmentVariableOverridesTheFile() {
        HttpNameBackend b1 = http("backend1");
        AegisProcess aegis = startWithAdmin("admin-token", new ConfigYaml().backends(List.of(b1.address()))
                .apiToken("from-file").build(), Map.of("AEGIS_API_TOKEN", "from-env"));
        AdminHttp api = admin(aegis);

        assertEquals(200, api.get("/health").status(), "reading needs no token");
        assertEquals(401, api.post("/drain", null).status());
        assertEquals(401, api.post("/drain", null, "from-file").status(), "the environment variable overrides the file");
        assertEquals(401, api.delete("/backends/" + b1.address(), "wrong").status());
        assertEquals(200, api.post("/drain", null, "from-env").status());
        assertEquals(200, api.post("/resume", null, "from-env").status());

        AegisProcess fileOnly = resources.add(AegisProcess.start("admin-token-file", new ConfigYaml()
                .backends(List.of(b1.address())).apiToken("only-file").build()));
        AdminHttp api2 = admin(fileOnly);
        assertEquals(401, api2.post("/drain", null).status());
        assertEquals(200, api2.post("/drain", null, "only-file").status());
    }

    @Test
    void metricsCountConnectionsPerBackendInPrometheusAndOpenMetricsFormat() throws IOException {
        HttpNameBackend b1 = http("backend1");
        AegisProcess aegis = startWithAdmin("admin-metrics", new ConfigYaml().backends(List.of(b1.address())).build());
        assumeTrue(aegis.metrics().isPresent(), "no metrics= in the started line");
        for (int i = 0; i < 3; i++) {
            Clients.whoAnswers(aegis.tcp());
        }
        AdminHttp metrics = new AdminHttp(aegis.metrics().get());

        AdminHttp.Answer text = metrics.get("/metrics");
        assertEquals(200, text.status());
        for (String name : List.of("proxy_active_connections", "proxy_total_connections", "proxy_bytes_sent_total",
                "proxy_bytes_received_total", "proxy_backend_requests_total", "proxy_backend_connections")) {
            assertTrue(text.body().contains(name), "metric " + name + " missing");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.get("/metrics").body().lines()
                .anyMatch(l -> l.startsWith("proxy_backend_requests_total{") && l.contains(b1.address()) && l.endsWith(" 3.0")
                        || l.startsWith("proxy_backend_requests_total{") && l.contains(b1.address()) && l.endsWith(" 3")));
        AdminHttp.Answer open = metrics.get("/metrics", "application/openmetrics-text; version=1.0.0");
        assertEquals(200, open.status());
        assertTrue(open.body().strip().endsWith("# EOF"), "OpenMetrics ends with # EOF");
    }

    @Test
    void dashboardIsOneSelfContainedHtmlPage() {
        HttpNameBackend b1 = http("backend1");
        AegisProcess aegis = startWithAdmin("admin-dashboard", new ConfigYaml().backends(List.of(b1.address())).build());
        AdminHttp.Answer page = admin(aegis).get("/dashboard");
        assumeTrue(page.status() != 404, "GET /dashboard not implemented yet (SPEC §5)");
        assertEquals(200, page.status());
        assertTrue(String.valueOf(page.header("Content-Type")).startsWith("text/html"), page.header("Content-Type"));
        String html = page.body().toLowerCase(java.util.Locale.ROOT);
        assertTrue(html.contains("<html"), "an HTML page");
        assertFalse(html.matches("(?s).*<script[^>]+src=\"(https?:)?//.*"), "no external scripts");
        assertFalse(html.matches("(?s).*<link[^>]+href=\"(https?:)?//.*"), "no external styles or fonts");
    }

    @Test
    void aegisCommandsTalkToTheRunningInstance() throws IOException {
        HttpNameBackend b1 = http("backend1");
        HttpNameBackend b2 = http("backend2");
        int adminPort = freePort();
        String config = new ConfigYaml().backends(List.of(b1.address()))
                .admin("127.0.0.1:" + adminPort, "127.0.0.1:0").build();
        AegisProcess aegis = startWithAdmin("admin-cli", config);
        String file = aegis.configFile().toString();

        CommandLine.Result status = CommandLine.aegis("status", "-c", file);
        assertEquals(0, status.exitCode(), status::output);
        assertTrue(status.output().contains(b1.address()), status::output);
        assertEquals(0, CommandLine.aegis("health", "-c", file).exitCode());

        aegis.writeConfig(new ConfigYaml().backends(List.of(b2.address()))
                .admin("127.0.0.1:" + adminPort, "127.0.0.1:0").build());
        CommandLine.Result reload = CommandLine.aegis("reload", "-c", file);
        assertEquals(0, reload.exitCode(), reload::output);
        assertEquals("backend2", Clients.whoAnswers(aegis.tcp()));

        CommandLine.Result added = CommandLine.aegis("backends", "add", b1.address(), "-w", "50", "-c", file);
        assertEquals(0, added.exitCode(), added::output);
        assertTrue(added.output().contains("weight 50"), added::output);
        CommandLine.Result listed = CommandLine.aegis("backends", "-c", file);
        assertTrue(listed.output().contains(b1.address()) && listed.output().contains(b2.address()), listed::output);
        // the SOURCE column: b1 came through the API, b2 from the file
        assertTrue(listed.output().lines().anyMatch(l -> l.contains(b1.address()) && l.endsWith(" api")), listed::output);
        assertTrue(listed.output().lines().anyMatch(l -> l.contains(b2.address()) && l.endsWith(" config")), listed::output);
        CommandLine.Result removed = CommandLine.aegis("backends", "remove", b1.address(), "-c", file);
        assertEquals(0, removed.exitCode(), removed::output);
        assertTrue(removed.output().contains("removed " + b1.address()), removed::output);

        aegis.writeConfig(new ConfigYaml().backends(List.of(b2.address(), "127.0.0.1:70000"))
                .admin("127.0.0.1:" + adminPort, "127.0.0.1:0").build());
        CommandLine.Result rejected = CommandLine.aegis("reload", "-c", file);
        assertEquals(1, rejected.exitCode(), "a rejected reload exits 1: " + rejected.output());
        assertTrue(rejected.output().contains("proxy.backends[1].address"), rejected::output);

        assertEquals(0, CommandLine.aegis("drain", "-c", file).exitCode());
        try (Socket s = new Socket()) {
            s.connect(aegis.tcp(), 5_000);
            s.setSoTimeout(5_000);
            assertEquals(-1, s.getInputStream().read(), "closed at once while draining");
        } catch (IOException e) {
            // refused or reset: not served either
        }
        assertEquals(0, CommandLine.aegis("resume", "-c", file).exitCode());
        assertTrue(List.of("backend1", "backend2").contains(Clients.whoAnswers(aegis.tcp())));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Test
    void malformedAndHostileAdminRequestsGet4xxAndTheProxyCarriesOn() throws IOException {
        HttpNameBackend b1 = http("backend1");
        AegisProcess aegis = startWithAdmin("admin-hostile", new ConfigYaml().backends(List.of(b1.address())).build());
        AdminHttp api = admin(aegis);
        java.net.InetSocketAddress adminAddress = aegis.admin().orElseThrow();

        // a request line that is not HTTP, and a header far beyond any sane size: 4xx or a closed connection
        for (String raw : List.of("GARBAGE\r\n\r\n", "GET /health HTTP/1.1\r\nX-Big: " + "a".repeat(200_000) + "\r\n\r\n",
                "\u0000\u0001\u0002\r\n\r\n")) {
            String status = rawStatusLine(adminAddress, raw);
            assertTrue(status.isEmpty() || status.matches("HTTP/1\\.1 4\\d\\d.*"), "answer to a malformed request: " + status);
        }
        // bodies: too large (413), not JSON (400), JSON of the wrong shape (400)
        assertEquals(413, api.post("/backends", "{\"address\":\"" + "x".repeat(200_000) + "\"}").status());
        assertEquals(400, api.post("/backends", "{not json").status());
        assertEquals(400, api.post("/backends", "[1,2,3]").status());
        assertEquals(400, api.post("/backends", "{\"address\":\"127.0.0.1:1\",\"weight\":-5}").status());
        // path traversal and encoded tricks in /backends/{address}: never a file, never a 5xx
        for (String path : List.of("/backends/..%2F..%2Fetc%2Fpasswd", "/backends/../status", "/backends/%2e%2e/health",
                "/backends/127.0.0.1:1%00", "/backends/" + "9".repeat(5000))) {
            int status = api.delete(path).status();
            assertTrue(status >= 400 && status < 500, path + " -> " + status);
        }
        // wrong methods and a missing token on a token-less instance still behave
        assertEquals(405, api.method("PUT", "/reload").status());
        // the proxy and the API carry on
        assertEquals(200, api.get("/health").status());
        assertEquals("backend1", Clients.whoAnswers(aegis.tcp()));
        assertTrue(aegis.isAlive());
        assertEquals(0, aegis.count("Exception"), aegis.tail(20));
    }

    /** Sends raw bytes to the admin port and returns the status line of the answer ("" if it just closed). */
    private static String rawStatusLine(java.net.InetSocketAddress address, String raw) throws IOException {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(address, 5_000);
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
            } catch (IOException e) {
                return ""; // the server closed while we were still sending the huge header
            }
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            try {
                String line = in.readLine();
                return line == null ? "" : line;
            } catch (java.net.SocketException e) {
                return ""; // reset: the server refused it outright
            }
        }
    }
}
