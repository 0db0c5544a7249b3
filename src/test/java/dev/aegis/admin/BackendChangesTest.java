package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.backend.Backend;
import dev.aegis.testsupport.TcpEcho;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** POST /backends and DELETE /backends/{address} against a real running Aegis. */
class BackendChangesTest extends RunningAegisTest {

    @Test
    void anAddedBackendReceivesTraffic() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"" + b.id() + "\",\"weight\":50}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("added", json(r).get("status").asText());
        assertEquals("tcp", json(r).get("pool").asText());
        JsonNode listed = json(fx.get("/backends")).get("backends");
        assertEquals(2, listed.size());
        assertEquals(b.id(), listed.get(1).get("address").asText());
        assertEquals(50, listed.get(1).get("weight").asInt());
        for (int i = 0; i < 4; i++) {
            assertEquals("n" + i, fx.roundTrip("n" + i));
        }
        assertEquals(2, b.accepted.get(), "round robin over both");
    }

    @Test
    void addingAnAddressAlreadyInThePoolIs409() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"" + a.id() + "\"}");
        assertEquals(409, r.statusCode());
        assertTrue(json(r).get("error").asText().contains(a.id()), r.body());
    }

    @Test
    void anInvalidBackendIs400WithEveryProblem() throws Exception {
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend()), "");
        HttpResponse<String> r = fx.post("/backends",
                "{\"address\":\"127.0.0.1:70000\",\"weight\":20000,\"pool\":\"sctp\",\"colour\":\"red\"}");
        assertEquals(400, r.statusCode());
        JsonNode body = json(r);
        assertTrue(body.get("error").asText().startsWith("invalid backend"), r.body());
        List<String> errors = new ArrayList<>();
        body.get("errors").forEach(e -> errors.add(e.asText()));
        assertEquals(4, errors.size(), r.body());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("address: port 70000 out of range")), r.body());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("weight:")), r.body());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("pool:")), r.body());
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("colour:")), r.body());
        assertEquals(1, json(fx.get("/backends")).get("backends").size(), "nothing added");
    }

    @Test
    void anAddressWithoutPortOrTheUdpPoolWithoutUdpIs400() throws Exception {
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend()), "");
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"127.0.0.1\"}");
        assertEquals(400, r.statusCode());
        assertTrue(json(r).get("errors").get(0).asText().contains("missing port"), r.body());
        r = fx.post("/backends", "{}");
        assertEquals(400, r.statusCode());
        assertTrue(json(r).get("errors").get(0).asText().contains("address: required"), r.body());
        r = fx.post("/backends", "{\"address\":\"127.0.0.1:9\",\"pool\":\"udp\"}");
        assertEquals(400, r.statusCode());
        assertTrue(json(r).get("errors").get(0).asText().contains("no udp pool"), r.body());
    }

    @Test
    void deleteRemovesABackendAndAnUnknownOneIs404() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a, b), "");
        String encoded = "/backends/127.0.0.1%3A" + b.port();
        HttpResponse<String> r = fx.delete(encoded);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("removed", json(r).get("status").asText());
        assertEquals(b.id(), json(r).get("address").asText());
        assertNull(fx.aegis.service().tcpPool().current().find(b.id()));
        for (int i = 0; i < 3; i++) {
            assertEquals("d" + i, fx.roundTrip("d" + i));
        }
        assertEquals(0, b.accepted.get(), "a removed backend takes no new connection");
        r = fx.delete(encoded);
        assertEquals(404, r.statusCode());
        assertTrue(json(r).get("error").asText().contains(b.id()), r.body());
        assertEquals(404, fx.delete("/backends/" + b.id() + "?pool=tcp").statusCode(), "unencoded works too");
        assertEquals(400, fx.delete("/backends/not-an-address").statusCode());
    }

    @Test
    void theUdpPoolIsChangedWithPoolUdp() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpAndUdpConfig(a), "");
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"127.0.0.1:7\",\"pool\":\"udp\",\"weight\":0}");
        assertEquals(201, r.statusCode(), r.body());
        Backend added = fx.aegis.service().udpPool().orElseThrow().current().find("127.0.0.1:7");
        assertEquals(0, added.weight());
        assertNull(fx.aegis.service().tcpPool().current().find("127.0.0.1:7"), "not in the TCP pool");
        assertEquals(404, fx.delete("/backends/127.0.0.1:7").statusCode(), "the TCP pool is the default");
        assertEquals(200, fx.delete("/backends/127.0.0.1:7?pool=udp").statusCode());
        assertEquals(1, json(fx.get("/backends")).get("udp_backends").size());
        assertEquals(400, fx.delete("/backends/127.0.0.1:9?pool=sctp").statusCode());
    }
}
