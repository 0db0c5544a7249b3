package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.testsupport.TcpEcho;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** POST /reload, /drain and /resume against a real running Aegis. */
class ControlEndpointsTest extends RunningAegisTest {

    @Test
    void reloadAppliesAValidFileAndIncrementsTheGeneration() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        fx.rewrite(AdminFixture.tcpConfig(a, b));
        HttpResponse<String> r = fx.post("/reload", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("reloaded", json(r).get("status").asText());
        assertEquals(2, json(r).get("generation").asLong());
        JsonNode status = json(fx.get("/status"));
        assertEquals(2, status.get("generation").asLong());
        assertEquals(1, status.get("reloads").get("ok").asLong());
        assertEquals(2, status.get("backends").size());
        for (int i = 0; i < 4; i++) {
            assertEquals("r" + i, fx.roundTrip("r" + i));
        }
        assertEquals(2, b.accepted.get(), "the reloaded backend takes its round-robin share");
    }

    @Test
    void reloadOfAnInvalidFileIsRejectedWithEveryErrorAndTheOldConfigKeepsServing() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        fx.rewrite("""
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - address: "127.0.0.1:70000"
                  load_balancing:
                    algorithm: fastest
                """);
        HttpResponse<String> r = fx.post("/reload", "");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("rejected", body.get("status").asText());
        assertTrue(body.get("error").asText().contains("2 errors"), r.body());
        assertEquals(2, body.get("errors").size(), r.body());
        assertTrue(body.get("errors").get(0).asText().contains("proxy.backends[0].address"), r.body());
        assertEquals("kept", fx.roundTrip("kept"), "the old configuration still serves");
        JsonNode status = json(fx.get("/status"));
        assertEquals(1, status.get("generation").asLong());
        assertEquals(1, status.get("reloads").get("failed").asLong());
        assertEquals(a.id(), status.get("backends").get(0).get("address").asText());
    }

    @Test
    void aReloadThatCannotBindItsNewUdpListenerLeavesNoUdpPoolBehind() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        try (DatagramSocket busy = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            fx.rewrite("""
                    proxy:
                      listen:
                        tcp: "127.0.0.1:0"
                        udp: "127.0.0.1:%d"
                      backends:
                        - address: "%s"
                      udp_backends:
                        - address: "127.0.0.1:9"
                    """.formatted(busy.getLocalPort(), a.id()));
            HttpResponse<String> r = fx.post("/reload", "");
            assertEquals(400, r.statusCode(), r.body());
        }
        JsonNode status = json(fx.get("/status"));
        assertEquals(1, status.get("generation").asLong());
        assertEquals(0, status.get("udp_backends").size(), status.toString());
        assertEquals(0, json(fx.get("/backends")).get("udp_backends").size());
        assertFalse(json(fx.get("/health")).has("udp_backends"));
        HttpResponse<String> add = fx.post("/backends", "{\"address\":\"127.0.0.1:7\",\"pool\":\"udp\"}");
        assertEquals(400, add.statusCode(), "there is still no UDP pool to add to: " + add.body());
    }

    @Test
    void drainRefusesNewConnectionsUntilResume() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        HttpResponse<String> r = fx.post("/drain", "");
        assertEquals(200, r.statusCode());
        assertEquals("draining", json(r).get("status").asText());
        assertTrue(json(r).get("draining").asBoolean());
        assertTrue(json(fx.get("/status")).get("draining").asBoolean());
        assertEquals("", fx.roundTrip("refused"));
        assertEquals(0, a.accepted.get());

        r = fx.post("/resume", "");
        assertEquals(200, r.statusCode());
        assertEquals("accepting", json(r).get("status").asText());
        assertFalse(json(r).get("draining").asBoolean());
        assertFalse(json(fx.get("/status")).get("draining").asBoolean());
        assertEquals("back", fx.roundTrip("back"));
    }
}
