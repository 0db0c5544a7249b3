package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.testsupport.TcpEcho;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP contract of the admin API: error statuses, JSON error bodies, limits and the bearer token. */
class ProtocolTest {

    private static final String TOKEN = "s3cret-token";

    @TempDir
    Path dir;

    private TcpEcho backend;
    private AdminFixture fx;

    @AfterEach
    void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private void start(String token) throws Exception {
        backend = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend), token);
    }

    private static void assertJsonError(HttpResponse<String> r, int status) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertFalse(json(r).get("error").asText().isEmpty(), r.body());
    }

    @Test
    void anUnknownPathIs404WithAJsonBody() throws Exception {
        start("");
        assertJsonError(fx.get("/nope"), 404);
        assertJsonError(fx.get("/"), 404);
        assertJsonError(fx.get("/health/"), 404);
        assertJsonError(fx.delete("/backends/"), 404);
    }

    @Test
    void aWrongMethodIs405WithAllow() throws Exception {
        start("");
        HttpResponse<String> r = fx.get("/reload");
        assertJsonError(r, 405);
        assertEquals("POST", r.headers().firstValue("Allow").orElseThrow());
        r = fx.send(fx.request("/backends").PUT(HttpRequest.BodyPublishers.ofString("{}")));
        assertJsonError(r, 405);
        assertEquals("GET, POST", r.headers().firstValue("Allow").orElseThrow());
        r = fx.post("/health", "");
        assertJsonError(r, 405);
        assertEquals("GET", r.headers().firstValue("Allow").orElseThrow());
        r = fx.get("/backends/127.0.0.1:9");
        assertJsonError(r, 405);
        assertEquals("DELETE", r.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void aBodyOver64KibIs413() throws Exception {
        start("");
        String big = "{\"address\":\"" + "a".repeat(70 * 1024) + "\"}";
        HttpResponse<String> r = fx.post("/backends", big); // refused by its Content-Length
        assertJsonError(r, 413);
        assertEquals("close", r.headers().firstValue("Connection").orElse(""));
        r = fx.send(fx.request("/backends").header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(big.getBytes())))); // chunked: refused after 64 KiB + 1 byte
        assertJsonError(r, 413);
        assertEquals(1, json(fx.get("/backends")).get("backends").size());
    }

    @Test
    void badJsonIs400() throws Exception {
        start("");
        HttpResponse<String> r = fx.post("/backends", "{\"address\": ");
        assertJsonError(r, 400);
        assertTrue(json(r).get("error").asText().startsWith("invalid JSON"), r.body());
        assertJsonError(fx.post("/backends", "[1, 2]"), 400);
        assertJsonError(fx.post("/backends", ""), 400);
        assertJsonError(fx.post("/backends", "{\"address\":\"127.0.0.1:1\",\"address\":\"127.0.0.1:2\"}"), 400);
    }

    @Test
    void postAndDeleteNeedTheBearerTokenWhenOneIsSet() throws Exception {
        start(TOKEN);
        assertJsonError(fx.post("/drain", ""), 401);
        HttpResponse<String> r = fx.send(fx.request("/drain").header("Authorization", "Bearer wrong")
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertJsonError(r, 401);
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        assertFalse(fx.aegis.draining(), "a refused request changes nothing");
        assertJsonError(fx.send(fx.request("/drain").header("Authorization", "Bearer " + TOKEN + "x")
                .POST(HttpRequest.BodyPublishers.noBody())), 401);
        assertJsonError(fx.send(fx.request("/drain").header("Authorization", TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody())), 401);
        assertJsonError(fx.delete("/backends/" + backend.id()), 401);

        r = fx.send(fx.request("/drain").header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(fx.aegis.draining());
        r = fx.send(fx.request("/backends/" + backend.id()).header("Authorization", "bearer " + TOKEN).DELETE());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(200, fx.get("/status").statusCode(), "GET needs no token");
        assertEquals(200, fx.get("/backends").statusCode());
    }

    @Test
    void noTokenConfiguredMeansNoneIsNeeded() throws Exception {
        start("");
        assertEquals(200, fx.post("/drain", "").statusCode());
        assertEquals(200, fx.send(fx.request("/resume").header("Authorization", "Bearer anything")
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
    }

    @Test
    void startOnABusyAddressThrowsNamingIt() throws Exception {
        start("");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            AdminServer other = new AdminServer(fx.aegis, fx.aegis::status,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort()), () -> "", List::of);
            IOException e = assertThrows(IOException.class, other::start);
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            other.close();
        }
    }

    @Test
    void theDashboardIsASelfContainedPageUnderAStrictContentSecurityPolicy() throws Exception {
        start("");
        HttpResponse<String> r = fx.get("/dashboard");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
        String html = r.body();
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "no external scripts, styles or fonts");
        // nothing inline: the policy below would block it
        assertFalse(html.matches("(?s).*<script>.*") || html.contains("<style") || html.contains(" style="), html);
        List<String> linked = new ArrayList<>();
        Matcher m = Pattern.compile("(?:src|href)=\"(/dashboard/[^\"]+)\"").matcher(html);
        while (m.find()) {
            linked.add(m.group(1));
        }
        assertEquals(List.of("/dashboard/favicon.svg", "/dashboard/dashboard.css", "/dashboard/dashboard.js"), linked);
        String script = null;
        for (String path : linked) {
            HttpResponse<String> resource = fx.get(path);
            assertEquals(200, resource.statusCode(), path);
            assertEquals(DashboardHandler.CSP, resource.headers().firstValue("Content-Security-Policy").orElseThrow(), path);
            if (path.endsWith(".js")) {
                script = resource.body();
                assertTrue(resource.headers().firstValue("Content-Type").orElseThrow().startsWith("text/javascript"));
            }
        }
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElseThrow().contains("script-src 'self'"));
        assertTrue(script.contains("fetch(\"/status\"") && script.contains("fetch(\"/health\""), "a page reading /status and /health");
        assertTrue(script.contains("status.services") && script.contains("health.services"),
                "a section per service, from the services of /status and /health (SPEC §9)");
        assertJsonError(fx.post("/dashboard", ""), 405);
        assertJsonError(fx.get("/dashboardx"), 404);
        assertJsonError(fx.get("/dashboard/other.js"), 404);
    }
}
