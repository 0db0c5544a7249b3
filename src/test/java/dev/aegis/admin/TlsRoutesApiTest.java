package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.testsupport.TcpEcho;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each TLS route is a pool of its own (SPEC §10): the admin API lists it as {@code tls:<first server
 * name>} under {@code tls_routes}, its health checks run and count in {@code /health}, and an empty
 * default pool ({@code backends: []}) is not a pool that is down.
 */
class TlsRoutesApiTest {

    @TempDir
    Path dir;

    private AdminFixture fx;
    private TcpEcho echo;
    private final List<TcpEcho> more = new java.util.ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
        if (echo != null) {
            echo.close();
        }
        for (TcpEcho e : more) {
            e.close();
        }
    }

    private TcpEcho backend() throws Exception {
        TcpEcho e = new TcpEcho();
        more.add(e);
        return e;
    }

    /** The first flight of a TLS client (the JDK's) naming {@code serverName}. */
    private static byte[] clientHello(String serverName) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(serverName, 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(serverName)));
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] hello = new byte[out.remaining()];
        out.get(hello);
        return hello;
    }

    /** One connection through the proxy that sends {@code hello}: the echo comes back unchanged. */
    private void sendHello(byte[] hello) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), fx.tcpPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(hello);
            s.shutdownOutput();
            assertArrayEquals(hello, s.getInputStream().readAllBytes());
        }
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void routesShowAsPoolsOfTheirOwnWithTheirHealth() throws Exception {
        echo = new TcpEcho();
        int dead = closedPort();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: []
                  tls_routes:
                    - server_names: ["a.test", "*.a.test"]
                      backends: [ { address: "%s", health_check: { interval: 50ms, timeout: 50ms } } ]
                    - server_names: ["b.test"]
                      backends:
                        - { address: "127.0.0.1:%d", health_check: { interval: 50ms, timeout: 50ms, unhealthy_threshold: 1 } }
                        - { address: "%s" }
                """.formatted(echo.id(), dead, echo.id()), "");

        JsonNode backends = json(fx.get("/backends"));
        assertEquals(0, backends.get("backends").size());
        JsonNode routes = backends.get("tls_routes");
        assertEquals("tls:a.test", routes.get(0).get("pool").asText());
        assertEquals("*.a.test", routes.get(0).get("server_names").get(1).asText());
        assertEquals(echo.id(), routes.get(0).get("backends").get(0).get("address").asText());
        assertEquals("tls:b.test", routes.get(1).get("pool").asText());

        // the health checker watches the route pools: the dead backend goes down, the echo stays up
        await().atMost(Duration.ofSeconds(10)).until(() ->
                !json(fx.get("/backends")).get("tls_routes").get(1).get("backends").get(0).get("healthy").asBoolean());
        assertEquals(true, json(fx.get("/backends")).get("tls_routes").get(0).get("backends").get(0).get("healthy").asBoolean());
        var health = fx.get("/health");
        assertEquals(200, health.statusCode(), health.body());
        JsonNode h = json(health);
        assertEquals("degraded", h.get("status").asText(), health.body());
        assertEquals(false, h.get("tls_routes").get("tls:b.test").get("127.0.0.1:" + dead).asBoolean());

        JsonNode status = json(fx.get("/status"));
        assertEquals("tls:a.test", status.get("tls_routes").get(0).get("pool").asText());
        assertEquals("tls:b.test", status.get("services").get(0).get("tls_routes").get(1).get("pool").asText());
        assertFalse(status.get("config").get("proxy").get("tls_routes").isEmpty());
    }

    @Test
    void backendsOfSeveralServicesListTheRoutesWithTheirService() throws Exception {
        echo = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                services:
                  - name: plain
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                  - name: web
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                    tls_routes:
                      - server_names: ["a.test"]
                        backends: [ { address: "%s" } ]
                """.formatted(echo.id(), echo.id(), echo.id()), "");

        JsonNode all = json(fx.get("/backends"));
        assertEquals(1, all.get("tls_routes").size());
        assertEquals("web", all.get("tls_routes").get(0).get("service").asText());
        assertEquals("tls:a.test", all.get("tls_routes").get(0).get("pool").asText());
        assertFalse(json(fx.get("/backends?service=plain")).has("tls_routes"), "no routes, no key: the shape as before");
        assertEquals("tls:a.test", json(fx.get("/backends?service=web")).get("tls_routes").get(0).get("pool").asText());
    }

    @Test
    void aBackendAddedToARoutePoolAtRunTimeTakesItsShareAndLeavesWhenRemoved() throws Exception {
        TcpEcho fallback = backend();
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ { address: "%s" } ]
                  tls_routes:
                    - server_names: ["a.test", "*.a.test"]
                      backends: [ { address: "%s" } ]
                """.formatted(fallback.id(), a.id()), "");

        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"" + b.id() + "\",\"pool\":\"tls:a.test\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("tls:a.test", json(r).get("pool").asText());
        JsonNode route = json(fx.get("/backends")).get("tls_routes").get(0);
        assertEquals(2, route.get("backends").size(), route.toString());
        assertEquals(b.id(), route.get("backends").get(1).get("address").asText());
        assertEquals(1, json(fx.get("/backends")).get("backends").size(), "the default pool is unchanged");

        byte[] hello = clientHello("a.test");
        for (int i = 0; i < 4; i++) {
            sendHello(hello);
        }
        assertEquals(2, a.accepted.get(), "round robin over the route's two backends");
        assertEquals(2, b.accepted.get(), "round robin over the route's two backends");
        assertEquals(0, fallback.accepted.get());

        r = fx.post("/backends", "{\"address\":\"" + b.id() + "\",\"pool\":\"tls:a.test\"}");
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(json(r).get("error").asText().contains("tls:a.test pool"), r.body());

        r = fx.delete("/backends/" + b.id() + "?pool=tls:a.test");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("tls:a.test", json(r).get("pool").asText());
        for (int i = 0; i < 2; i++) {
            sendHello(hello);
        }
        assertEquals(4, a.accepted.get(), "the removed backend takes no new connection");
        assertEquals(2, b.accepted.get());
        assertEquals(404, fx.delete("/backends/" + b.id() + "?pool=tls:a.test").statusCode());
    }

    @Test
    void aPoolThatIsNoRouteOfTheServiceIs400NamingTheRoutePools() throws Exception {
        echo = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ { address: "%s" } ]
                  tls_routes:
                    - server_names: ["a.test", "*.a.test"]
                      backends: [ { address: "%s" } ]
                    - server_names: ["b.test"]
                      backends: [ { address: "%s" } ]
                """.formatted(echo.id(), echo.id(), echo.id()), "");
        // a route's pool is named by its first server name only, as GET /backends lists it
        for (String pool : List.of("tls:nope.test", "tls:*.a.test", "tls:")) {
            HttpResponse<String> r = fx.post("/backends", "{\"address\":\"127.0.0.1:9\",\"pool\":\"" + pool + "\"}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals("pool: must be \"tcp\", \"udp\" or a TLS route's pool (\"tls:a.test\", \"tls:b.test\"), not \""
                    + pool + "\"", json(r).get("errors").get(0).asText(), r.body());
        }
        HttpResponse<String> r = fx.delete("/backends/" + echo.id() + "?pool=tls:nope.test");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode listed = json(fx.get("/backends")).get("tls_routes");
        assertEquals(1, listed.get(0).get("backends").size(), "nothing added");
        assertEquals(1, listed.get(1).get("backends").size(), "nothing added");
    }

    /**
     * The dashboard rendered by a real browser (headless Chromium over DevTools, see
     * {@link HeadlessChromium}): each route's backends are rows of pool {@code tls:<first server
     * name>}, the route's names in the cell's title, and nothing reaches the console.
     */
    @Test
    void theDashboardShowsTheRoutePools() throws Exception {
        assertTrue(CommandLine.available("chromium"), "chromium is installed by .ci/run");
        echo = new TcpEcho();
        TcpEcho route = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ { address: "%s" } ]
                  tls_routes:
                    - server_names: ["a.test", "*.a.test"]
                      backends: [ { address: "%s" } ]
                """.formatted(echo.id(), route.id()), "");
        String rows = "JSON.stringify([...document.querySelectorAll('tr[data-backend]')]"
                + ".map(r => [r.dataset.pool, r.dataset.backend, r.cells[0].title]))";
        try (HeadlessChromium browser = new HeadlessChromium(dir, 1200, 900)) { // its profile goes under target/
            browser.navigate("http://127.0.0.1:" + fx.admin.address().getPort() + "/dashboard");
            String seen = await("the dashboard's backend rows").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> browser.evaluate(rows).asText(), text -> text.contains("tls:a.test"));
            assertEquals("[[\"tcp\",\"" + echo.id() + "\",\"\"],[\"tls:a.test\",\"" + route.id()
                    + "\",\"a.test, *.a.test\"]]", seen);
            assertEquals(List.of(), browser.errors(), "nothing in the console");
        }
    }

    /** Is {@code program} on the PATH? */
    private static final class CommandLine {
        static boolean available(String program) throws Exception {
            Process p = new ProcessBuilder("sh", "-c", "command -v " + program).start();
            return p.waitFor() == 0;
        }
    }
}
