package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.testsupport.TcpEcho;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
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

    @AfterEach
    void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
        if (echo != null) {
            echo.close();
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
}
