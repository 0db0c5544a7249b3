package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.backend.Backend;
import dev.aegis.testsupport.TcpEcho;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** GET /health, /status and /backends against a real running Aegis. */
class ReadEndpointsTest extends RunningAegisTest {

    private Backend live(TcpEcho e) {
        return fx.aegis.service().tcpPool().current().find(e.id());
    }

    @Test
    void healthIsOkWhenEveryBackendIsUp() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a, b), "");
        HttpResponse<String> r = fx.get("/health");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode body = json(r);
        assertEquals("ok", body.get("status").asText());
        assertTrue(body.get("backends").get(a.id()).asBoolean());
        assertTrue(body.get("backends").get(b.id()).asBoolean());
        assertFalse(body.has("udp_backends"), "no UDP listener, no udp_backends");
    }

    @Test
    void healthIsDegradedWithOneBackendDownAndDownWith503WhenNoneIsUp() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a, b), "");
        live(a).setHealthy(false);
        HttpResponse<String> r = fx.get("/health");
        assertEquals(200, r.statusCode());
        assertEquals("degraded", json(r).get("status").asText());
        assertFalse(json(r).get("backends").get(a.id()).asBoolean());
        for (int i = 0; i < 5; i++) {
            live(b).recordFailure(); // healthy by its checks, but its circuit opens
        }
        r = fx.get("/health");
        assertEquals(503, r.statusCode());
        assertEquals("down", json(r).get("status").asText());
        assertFalse(json(r).get("backends").get(b.id()).asBoolean());
        // the liveness probe of conf/kubernetes: Aegis itself is fine, its backends are not
        assertEquals(200, fx.get("/status").statusCode());
    }

    @Test
    void healthShowsUdpBackendsWithAUdpListener() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpAndUdpConfig(a), "");
        JsonNode body = json(fx.get("/health"));
        assertEquals("ok", body.get("status").asText());
        assertTrue(body.get("udp_backends").get("127.0.0.1:9").asBoolean());
        fx.aegis.service().udpPool().orElseThrow().current().find("127.0.0.1:9").setHealthy(false);
        HttpResponse<String> r = fx.get("/health");
        assertEquals(503, r.statusCode(), "the UDP pool has none up");
        assertTrue(json(r).get("backends").get(a.id()).asBoolean());
    }

    @Test
    void statusShowsStateCountersListenersConfigAndBackends() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        assertEquals("hi", fx.roundTrip("hi"));
        assertEquals("yo", fx.roundTrip("yo"));
        await().atMost(Duration.ofSeconds(10)).until(() -> json(fx.get("/status")).get("active_connections").asInt() == 0);
        HttpResponse<String> r = fx.get("/status");
        assertEquals(200, r.statusCode());
        JsonNode s = json(r);
        assertFalse(s.get("version").asText().isEmpty());
        assertTrue(s.get("uptime_seconds").asLong() >= 0);
        assertFalse(s.get("draining").asBoolean());
        assertEquals(2, s.get("total_connections").asLong());
        assertEquals(0, s.get("udp_sessions").asInt());
        assertEquals("127.0.0.1:" + fx.tcpPort(), s.get("listeners").get("tcp").asText());
        assertTrue(s.get("listeners").get("udp").isNull());
        assertEquals("round_robin", s.get("algorithm").asText());
        assertEquals(fx.file.toString(), s.get("config_file").asText());
        assertEquals(1, s.get("generation").asLong());
        assertEquals(0, s.get("reloads").get("ok").asLong());
        assertEquals(0, s.get("reloads").get("failed").asLong());
        assertEquals("127.0.0.1:0", s.get("config").get("proxy").get("listen").get("tcp").asText());
        assertEquals("5s", s.get("config").get("proxy").get("traffic").get("timeout").get("connect").asText());
        JsonNode backend = s.get("backends").get(0);
        assertEquals(a.id(), backend.get("address").asText());
        assertEquals(100, backend.get("weight").asInt());
        assertTrue(backend.get("healthy").asBoolean());
        assertEquals("closed", backend.get("circuit").asText());
        assertEquals(0, backend.get("active_connections").asInt());
        assertEquals(2, backend.get("total_connections").asLong());
        assertEquals(0, backend.get("failures").asLong());
        assertEquals("config", backend.get("source").asText());
        assertEquals(0, s.get("udp_backends").size());
    }

    @Test
    void statusMasksTheApiToken() throws Exception {
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend()), "very-secret");
        HttpResponse<String> r = fx.get("/status");
        assertEquals(200, r.statusCode(), "GET needs no token");
        assertFalse(r.body().contains("very-secret"));
        assertEquals("***", json(r).get("config").get("admin").get("api_token").asText());
    }

    @Test
    void backendsListsBothPoolsWithTheOriginalFieldNames() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                    udp: "127.0.0.1:0"
                  backends:
                    - address: "%s"
                      weight: 7
                  udp_backends:
                    - address: "127.0.0.1:9"
                """.formatted(a.id()), "");
        assertEquals("x", fx.roundTrip("x"));
        for (int i = 0; i < 5; i++) {
            live(a).recordFailure();
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> json(fx.get("/backends")).get("backends").get(0).get("active_connections").asInt() == 0);
        JsonNode body = json(fx.get("/backends"));
        JsonNode tcp = body.get("backends").get(0);
        assertEquals(a.id(), tcp.get("address").asText());
        assertEquals(7, tcp.get("weight").asInt());
        assertTrue(tcp.get("healthy").asBoolean());
        assertEquals("open", tcp.get("circuit_state").asText());
        assertEquals(1, tcp.get("total_requests").asLong());
        assertEquals(5, tcp.get("failed_requests").asLong());
        assertEquals("127.0.0.1:9", body.get("udp_backends").get(0).get("address").asText());
        assertEquals("closed", body.get("udp_backends").get(0).get("circuit_state").asText());
    }
}
