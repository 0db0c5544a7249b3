package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.Service;
import dev.aegis.backend.Backend;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The admin API of several services (SPEC §9) against a real running Aegis, over HTTP and real sockets. */
class ServicesApiTest extends RunningAegisTest {

    /** One service of the config: a name, its TCP backends, and optionally a UDP listener with the discard port as backend. */
    private record Svc(String name, String algorithm, boolean udp, TcpEcho... backends) {
    }

    private static String servicesConfig(Svc... services) {
        StringBuilder b = new StringBuilder("services:\n");
        for (Svc s : services) {
            b.append("  - name: ").append(s.name).append('\n');
            b.append("    listen:\n      tcp: \"127.0.0.1:0\"\n");
            if (s.udp) {
                b.append("      udp: \"127.0.0.1:0\"\n");
            }
            b.append("    backends:\n");
            for (TcpEcho e : s.backends) {
                b.append("      - address: \"").append(e.id()).append("\"\n");
            }
            if (s.udp) {
                b.append("    udp_backends:\n      - address: \"127.0.0.1:9\"\n");
            }
            if (s.algorithm != null) {
                b.append("    load_balancing: { algorithm: ").append(s.algorithm).append(" }\n");
            }
        }
        return b.toString();
    }

    private void start(Svc... services) throws Exception {
        fx = new AdminFixture(dir.resolve("aegis.yaml"), servicesConfig(services), "");
    }

    private Service service(String name) {
        return fx.aegis.service(name).orElseThrow();
    }

    private int port(String service) {
        return service(service).tcpListener().orElseThrow().localAddress().getPort();
    }

    private Backend live(String service, TcpEcho e) {
        return service(service).tcpPool().current().find(e.id());
    }

    /** One connection to a service's listener: sends a line and reads the echo to EOF; empty if refused or closed at once. */
    private String roundTrip(String service, String text) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port(service))) {
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
                s.shutdownOutput();
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException refused) {
                return "";
            }
        } catch (java.net.ConnectException refused) {
            return "";
        }
    }

    private static JsonNode byName(JsonNode array, String name) {
        for (JsonNode n : array) {
            if (n.get("name").asText().equals(name)) {
                return n;
            }
        }
        throw new AssertionError("no " + name + " in " + array);
    }

    private static List<String> addresses(JsonNode backends) {
        List<String> out = new ArrayList<>();
        backends.forEach(b -> out.add(b.get("address").asText()));
        return out;
    }

    /** A refusal: the status, a JSON body with an error message, which is returned. */
    private static String error(HttpResponse<String> r, int status) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode body = json(r);
        assertTrue(body.get("error").isTextual(), r.body());
        return body.get("error").asText();
    }

    private static void assertNamesServices(String message, String... names) {
        for (String n : names) {
            assertTrue(message.contains(n), "the message names " + n + ": " + message);
        }
    }

    /**
     * Sends a request line the JDK's HTTP client refuses to build (a bad escape), over a raw
     * socket, and expects a 400. The JDK's HTTP server refuses such a URI itself, before any
     * handler runs, with its own small HTML body: that body is not ours to shape.
     */
    private void assertRawRefusal(String requestLine) throws IOException {
        int port = fx.admin.address().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((requestLine + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400"), requestLine + " -> " + answer);
        }
    }

    // ------------------------------------------------------------------ reads

    @Test
    void servicesListsEveryServiceWithItsListenersAlgorithmStatusAndCounters() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho c1 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", "least_connections", false, b1), new Svc("dns-1", null, true, c1));
        try (Socket held = new Socket(InetAddress.getLoopbackAddress(), port("b"))) {
            held.getOutputStream().write('x');
            assertEquals('x', held.getInputStream().read(), "proxied to b");
            HttpResponse<String> r = fx.get("/services");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode list = json(r).get("services");
            assertEquals(3, list.size(), r.body());
            assertEquals(List.of("a", "b", "dns-1"), List.of(list.get(0).get("name").asText(),
                    list.get(1).get("name").asText(), list.get(2).get("name").asText()), "config order");
            JsonNode a = byName(list, "a");
            assertEquals("127.0.0.1:" + port("a"), a.get("listeners").get("tcp").asText());
            assertTrue(a.get("listeners").get("udp").isNull());
            assertEquals("round_robin", a.get("algorithm").asText());
            assertEquals("ok", a.get("status").asText());
            assertEquals(0, a.get("active_connections").asInt());
            assertEquals(0, a.get("udp_sessions").asInt());
            JsonNode b = byName(list, "b");
            assertEquals("least_connections", b.get("algorithm").asText());
            assertEquals(1, b.get("active_connections").asInt(), "the held connection counts for b only");
            JsonNode c = byName(list, "dns-1");
            assertEquals("127.0.0.1:" + service("dns-1").udpListener().orElseThrow().localAddress().getPort(),
                    c.get("listeners").get("udp").asText());
            assertEquals("127.0.0.1:" + port("dns-1"), c.get("listeners").get("tcp").asText());
            assertEquals(0, c.get("active_connections").asInt());
        }
        live("a", a1).setHealthy(false);
        JsonNode a = byName(json(fx.get("/services")).get("services"), "a");
        assertEquals("down", a.get("status").asText(), "as /health decides it");
        assertEquals("ok", byName(json(fx.get("/services")).get("services"), "b").get("status").asText());
    }

    @Test
    void servicesWithOneServiceListsDefault() throws Exception {
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend()), "");
        JsonNode list = json(fx.get("/services")).get("services");
        assertEquals(1, list.size());
        assertEquals("default", list.get(0).get("name").asText());
        assertEquals("127.0.0.1:" + fx.tcpPort(), list.get(0).get("listeners").get("tcp").asText());
    }

    @Test
    void healthHasEveryServiceAndTheWorstStatusAtTheTop() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho a2 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1, a2), new Svc("b", null, true, b1));
        HttpResponse<String> r = fx.get("/health");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("ok", body.get("status").asText());
        JsonNode a = body.get("services").get("a");
        assertEquals("ok", a.get("status").asText());
        assertTrue(a.get("backends").get(a1.id()).asBoolean());
        assertTrue(a.get("backends").get(a2.id()).asBoolean());
        assertFalse(a.has("udp_backends"), "a has no UDP listener: " + r.body());
        JsonNode b = body.get("services").get("b");
        assertTrue(b.get("backends").get(b1.id()).asBoolean());
        assertTrue(b.get("udp_backends").get("127.0.0.1:9").asBoolean());
        assertFalse(body.has("backends"), "several services: the backends are per service: " + r.body());

        live("a", a1).setHealthy(false);
        r = fx.get("/health");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("degraded", json(r).get("status").asText());
        assertEquals("degraded", json(r).get("services").get("a").get("status").asText());
        assertEquals("ok", json(r).get("services").get("b").get("status").asText());

        live("b", b1).setHealthy(false);
        r = fx.get("/health");
        assertEquals(503, r.statusCode(), "a service with no backend up: " + r.body());
        assertEquals("down", json(r).get("status").asText());
        assertEquals("down", json(r).get("services").get("b").get("status").asText());
        assertFalse(json(r).get("services").get("b").get("backends").get(b1.id()).asBoolean());
        assertEquals("degraded", json(r).get("services").get("a").get("status").asText());

        live("a", a1).setHealthy(true);
        r = fx.get("/health");
        assertEquals(503, r.statusCode());
        assertEquals("ok", json(r).get("services").get("a").get("status").asText(), "a is ok while b is down");
    }

    @Test
    void healthOfOneServiceKeepsTheShapeOfSection5() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpAndUdpConfig(a), "");
        JsonNode body = json(fx.get("/health"));
        assertEquals("status", body.fieldNames().next(), "status first");
        assertEquals("ok", body.get("status").asText());
        assertTrue(body.get("backends").get(a.id()).asBoolean());
        assertTrue(body.get("udp_backends").get("127.0.0.1:9").asBoolean());
        assertEquals("ok", body.get("services").get("default").get("status").asText());
        assertTrue(body.get("services").get("default").get("backends").get(a.id()).asBoolean());
    }

    @Test
    void statusHasEveryServiceWithItsOwnFields() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho b2 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", "weighted", false, b1, b2));
        assertEquals("via-a", roundTrip("a", "via-a"));
        await().atMost(Duration.ofSeconds(10)).until(() -> json(fx.get("/status")).get("active_connections").asInt() == 0);
        HttpResponse<String> r = fx.get("/status");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode s = json(r);
        assertEquals(1, s.get("total_connections").asLong());
        assertFalse(s.get("draining").asBoolean());
        assertEquals(2, s.get("config").get("services").size(), "the effective config has both");
        JsonNode a = byName(s.get("services"), "a");
        assertEquals("127.0.0.1:" + port("a"), a.get("listeners").get("tcp").asText());
        assertEquals("round_robin", a.get("algorithm").asText());
        assertFalse(a.get("draining").asBoolean());
        assertEquals(1, a.get("total_connections").asLong());
        assertEquals(0, a.get("active_connections").asInt());
        assertEquals(0, a.get("udp_sessions").asInt());
        assertEquals(List.of(a1.id()), addresses(a.get("backends")));
        assertEquals(1, a.get("backends").get(0).get("total_connections").asLong());
        assertEquals("closed", a.get("backends").get(0).get("circuit").asText());
        assertEquals(0, a.get("udp_backends").size());
        JsonNode b = byName(s.get("services"), "b");
        assertEquals("weighted", b.get("algorithm").asText());
        assertEquals(0, b.get("total_connections").asLong());
        assertEquals(List.of(b1.id(), b2.id()), addresses(b.get("backends")));
    }

    @Test
    void statusOfOneServiceKeepsItsTopLevelFields() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        JsonNode s = json(fx.get("/status"));
        assertEquals("127.0.0.1:" + fx.tcpPort(), s.get("listeners").get("tcp").asText());
        assertEquals("round_robin", s.get("algorithm").asText());
        assertEquals(List.of(a.id()), addresses(s.get("backends")));
        assertEquals(1, s.get("services").size());
        assertEquals("default", s.get("services").get(0).get("name").asText());
        assertEquals(List.of(a.id()), addresses(s.get("services").get(0).get("backends")));
    }

    @Test
    void backendsOfOneServiceOrOfEveryServiceEachWithItsName() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho b2 = backend();
        start(new Svc("a", null, true, a1), new Svc("b", null, false, b1, b2));
        HttpResponse<String> r = fx.get("/backends?service=b");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(List.of(b1.id(), b2.id()), addresses(json(r).get("backends")));
        assertEquals(0, json(r).get("udp_backends").size());
        assertFalse(json(r).get("backends").get(0).has("service"), "one service: the shape of section 5");

        r = fx.get("/backends?service=a");
        assertEquals(List.of(a1.id()), addresses(json(r).get("backends")));
        assertEquals(List.of("127.0.0.1:9"), addresses(json(r).get("udp_backends")));

        r = fx.get("/backends");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode all = json(r);
        assertEquals(List.of(a1.id(), b1.id(), b2.id()), addresses(all.get("backends")));
        assertEquals(List.of("a", "b", "b"), List.of(all.get("backends").get(0).get("service").asText(),
                all.get("backends").get(1).get("service").asText(), all.get("backends").get(2).get("service").asText()));
        assertEquals("a", all.get("udp_backends").get(0).get("service").asText());
        assertEquals("closed", all.get("backends").get(1).get("circuit_state").asText(), "the listing fields stay");

        assertNamesServices(error(fx.get("/backends?service=nope"), 404), "nope", "a", "b");
    }

    @Test
    void statusHasTheCountersTheDashboardTurnsIntoRatesPerServiceAndBackend() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho a2 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1, a2), new Svc("b", null, true, b1));
        assertEquals("hello", roundTrip("a", "hello"));
        assertEquals("hi", roundTrip("a", "hi"));
        assertEquals(200, fx.post("/drain?service=b", "").statusCode());
        assertEquals("", roundTrip("b", "refused"));
        // the relay counts the echo after writing it: the client may have read it a moment before
        await().atMost(Duration.ofSeconds(10)).until(() -> byName(json(fx.get("/status")).get("services"), "a")
                .get("bytes_to_clients").asLong() == 7);

        JsonNode services = json(fx.get("/status")).get("services");
        JsonNode a = byName(services, "a");
        assertEquals(2, a.get("accepted_connections").asLong());
        assertEquals(7, a.get("bytes_from_clients").asLong());
        assertEquals(7, a.get("bytes_to_clients").asLong());
        // round robin: one connection each, each backend with its own bytes
        JsonNode first = a.get("backends").get(0);
        JsonNode second = a.get("backends").get(1);
        assertEquals(List.of(5L, 5L, 2L, 2L), List.of(first.get("bytes_from_clients").asLong(), first.get("bytes_to_clients").asLong(),
                second.get("bytes_from_clients").asLong(), second.get("bytes_to_clients").asLong()), a.get("backends").toString());
        assertEquals(List.of("rate_limited", "no_backend", "max_connections", "draining", "no_route", "bad_proxy_header",
                "queue_full", "queue_timeout"),
                names(a.get("rejected")), "every reason, zeros too, so a page's series do not come and go");
        assertEquals(0, a.get("rejected").get("draining").asLong());

        JsonNode b = byName(services, "b");
        assertEquals(1, b.get("accepted_connections").asLong(), "accepted, then closed as draining");
        assertEquals(1, b.get("rejected").get("draining").asLong());
        assertEquals(0, b.get("backends").get(0).get("bytes_from_clients").asLong());
        assertEquals(List.of("max_sessions", "no_backend", "rate_limited", "draining", "packet_rate", "unsent",
                "local_error", "bad_proxy_header"), names(b.get("udp_dropped")));
        assertEquals(0, b.get("udp_sessions_created").asLong());
        assertEquals(0, b.get("udp_bytes_from_clients").asLong() + b.get("udp_bytes_to_clients").asLong());
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void theDashboardReadsEveryServiceNotTheOneServiceTopLevelFields() throws Exception {
        start(new Svc("a", null, false, backend()), new Svc("b", null, false, backend()));
        HttpResponse<String> r = fx.get("/dashboard/dashboard.js");
        assertEquals(200, r.statusCode());
        // The page's script is not run here (DashboardBrowserTest runs it); what it reads is. With
        // several services /status has no top-level listeners, and a page reading
        // status.listeners.tcp threw and showed "unreachable".
        assertTrue(r.body().contains("status.services"), "one section per service");
        assertTrue(r.body().contains("health.services"), "each with its own verdict");
        assertFalse(r.body().contains("status.listeners"), "no field that only a one-service /status has");
        assertFalse(r.body().contains("status.backends"), "no field that only a one-service /status has");
    }

    // ------------------------------------------------------------------ mutations

    @Test
    void postBackendsAddsToTheNamedServiceOnly() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho added = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"" + added.id() + "\",\"service\":\"b\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("b", json(r).get("service").asText());
        assertEquals(List.of(b1.id(), added.id()), addresses(json(fx.get("/backends?service=b")).get("backends")));
        assertEquals(List.of(a1.id()), addresses(json(fx.get("/backends?service=a")).get("backends")), "a unchanged");
        for (int i = 0; i < 4; i++) {
            assertEquals("b" + i, roundTrip("b", "b" + i));
            assertEquals("a" + i, roundTrip("a", "a" + i));
        }
        assertEquals(2, added.accepted.get(), "b round-robins over both, a never uses it");

        assertEquals(409, fx.post("/backends", "{\"address\":\"" + added.id() + "\",\"service\":\"b\"}").statusCode());
        r = fx.post("/backends", "{\"address\":\"" + added.id() + "\",\"service\":\"a\"}");
        assertEquals(201, r.statusCode(), "the same address in another service is no conflict: " + r.body());
    }

    @Test
    void postBackendsWithoutServiceOnSeveralIs400NamingThemAndAnUnknownServiceIs404() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho extra = backend();
        start(new Svc("alpha", null, false, a1), new Svc("beta", null, false, b1));
        String message = error(fx.post("/backends", "{\"address\":\"" + extra.id() + "\"}"), 400);
        assertNamesServices(message, "alpha", "beta");
        message = error(fx.post("/backends", "{\"address\":\"" + extra.id() + "\",\"service\":\"gamma\"}"), 404);
        assertNamesServices(message, "gamma", "alpha", "beta");
        assertEquals(1, json(fx.get("/backends?service=alpha")).get("backends").size(), "nothing added");
        assertEquals(1, json(fx.get("/backends?service=beta")).get("backends").size(), "nothing added");
    }

    @Test
    void deleteRemovesFromTheNamedServiceOnly() throws Exception {
        TcpEcho shared = backend();
        TcpEcho b2 = backend();
        start(new Svc("a", null, false, shared), new Svc("b", null, false, shared, b2));
        assertNamesServices(error(fx.delete("/backends/" + shared.id()), 400), "a", "b");
        assertNamesServices(error(fx.delete("/backends/" + shared.id() + "?service=c"), 404), "a", "b");
        assertNotNull(live("b", shared), "nothing removed");

        HttpResponse<String> r = fx.delete("/backends/" + shared.id() + "?service=b");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("b", json(r).get("service").asText());
        assertNull(live("b", shared));
        assertNotNull(live("a", shared), "a keeps its backend of the same address");
        assertEquals(List.of(b2.id()), addresses(json(fx.get("/backends?service=b")).get("backends")));
        assertEquals(List.of(shared.id()), addresses(json(fx.get("/backends?service=a")).get("backends")));
        assertEquals("still", roundTrip("a", "still"));

        String message = error(fx.delete("/backends/" + shared.id() + "?service=b"), 404);
        assertTrue(message.contains(shared.id()) && message.contains("b"), message);
        error(fx.delete("/backends/not-an-address?service=a"), 400);
    }

    @Test
    void aOneServiceConfigTakesItsOwnNameOrNone() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        HttpResponse<String> r = fx.post("/backends", "{\"address\":\"" + b.id() + "\",\"service\":\"default\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertNamesServices(error(fx.post("/backends", "{\"address\":\"127.0.0.1:7\",\"service\":\"other\"}"), 404), "default");
        assertEquals(200, fx.delete("/backends/" + b.id() + "?service=default").statusCode());
        assertEquals(200, fx.get("/backends?service=default").statusCode());
        error(fx.get("/backends?service=other"), 404);
        error(fx.post("/drain?service=other", ""), 404);
        assertFalse(json(fx.get("/status")).get("draining").asBoolean());
    }

    // ------------------------------------------------------------------ drain

    @Test
    void drainOfOneServiceRefusesItsConnectionsWhileTheOtherAccepts() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        HttpResponse<String> r = fx.post("/drain?service=a", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("draining", json(r).get("status").asText());
        assertTrue(json(r).get("draining").asBoolean());
        assertEquals("a", json(r).get("service").asText());

        assertEquals("", roundTrip("a", "refused"));
        assertEquals(0, a1.accepted.get());
        assertEquals("open", roundTrip("b", "open"));
        JsonNode services = json(fx.get("/services")).get("services");
        assertTrue(byName(services, "a").get("draining").asBoolean());
        assertFalse(byName(services, "b").get("draining").asBoolean());
        JsonNode status = json(fx.get("/status"));
        assertFalse(status.get("draining").asBoolean(), "not every service drains");
        assertTrue(byName(status.get("services"), "a").get("draining").asBoolean());

        r = fx.post("/resume?service=a", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("accepting", json(r).get("status").asText());
        assertFalse(json(r).get("draining").asBoolean());
        assertEquals("back", roundTrip("a", "back"));
        assertEquals(1, a1.accepted.get());
    }

    @Test
    void drainWithoutServiceDrainsEveryService() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        HttpResponse<String> r = fx.post("/drain", "");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(json(r).get("draining").asBoolean());
        assertFalse(json(r).has("service"));
        assertEquals("", roundTrip("a", "no"));
        assertEquals("", roundTrip("b", "no"));
        assertTrue(json(fx.get("/status")).get("draining").asBoolean());

        error(fx.post("/resume?service=zz", ""), 404);
        assertEquals("", roundTrip("a", "still no"));
        r = fx.post("/resume", "");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("yes-a", roundTrip("a", "yes-a"));
        assertEquals("yes-b", roundTrip("b", "yes-b"));
        assertEquals(1, a1.accepted.get(), "only the connection after resume");
    }

    // ------------------------------------------------------------------ hostile input

    @Test
    void anEmptyServiceNameIsA400NeverEveryService() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        assertNamesServices(error(fx.post("/drain?service=", ""), 400), "a", "b");
        assertNamesServices(error(fx.post("/drain?service", ""), 400), "a", "b");
        assertEquals("served", roundTrip("a", "served"), "an empty name drained nothing");
        assertEquals("served", roundTrip("b", "served"));
        error(fx.get("/backends?service="), 400);
        error(fx.delete("/backends/" + a1.id() + "?service="), 400);
        error(fx.post("/backends", "{\"address\":\"127.0.0.1:7\",\"service\":\"\"}"), 400);
        assertNotNull(live("a", a1));
    }

    @Test
    void anEmptyServiceNameIsA400WithOneServiceToo() throws Exception {
        TcpEcho a = backend();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(a), "");
        error(fx.post("/drain?service=", ""), 400);
        assertEquals("up", fx.roundTrip("up"));
        error(fx.get("/backends?service="), 400);
        error(fx.delete("/backends/" + a.id() + "?service="), 400);
        assertEquals(1, json(fx.get("/backends")).get("backends").size());
    }

    @Test
    void oddServiceNamesAreRefusedWithAJsonError() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        // not a service name at all: 400, the name not echoed (it may be anything, of any length)
        for (String query : List.of("A", "a%20", "%00", "..%2F..%2Fetc", "%3Cscript%3E", "a%22%2C%22x", "%E2%98%83",
                "a".repeat(2000), "-a", "a%0D%0AX-Injected:%201")) {
            String message = error(fx.get("/backends?service=" + query), 400);
            assertNamesServices(message, "a", "b");
            assertTrue(message.length() < 300, message);
            assertFalse(message.contains("script") || message.contains("Injected") || message.contains("etc"), message);
            error(fx.post("/drain?service=" + query, ""), 400);
            error(fx.delete("/backends/" + a1.id() + "?service=" + query), 400);
        }
        // a well-formed name that is not there: 404
        assertNamesServices(error(fx.get("/backends?service=a2"), 404), "a2", "a", "b");
        // the first of a repeated parameter
        HttpResponse<String> r = fx.get("/backends?service=a&service=b");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(List.of(a1.id()), addresses(json(r).get("backends")));
        // bad escapes
        error(fx.post("/drain?service=%E2%98", ""), 400); // a broken UTF-8 sequence
        assertRawRefusal("GET /backends?service=%zz");
        assertRawRefusal("POST /drain?service=%");
        assertFalse(json(fx.get("/status")).get("draining").asBoolean());
        assertEquals("alive", roundTrip("a", "alive"));
        assertNotNull(live("a", a1));
    }

    @Test
    void aServiceInTheBodyThatIsNotAStringIs400() throws Exception {
        TcpEcho a1 = backend();
        TcpEcho b1 = backend();
        TcpEcho extra = backend();
        start(new Svc("a", null, false, a1), new Svc("b", null, false, b1));
        for (String value : List.of("5", "true", "[\"a\"]", "{\"name\":\"a\"}", "1.5", "\"a\\u0000\"")) {
            String message = error(fx.post("/backends", "{\"address\":\"" + extra.id() + "\",\"service\":" + value + "}"), 400);
            assertTrue(message.contains("service"), message);
        }
        assertNamesServices(error(fx.post("/backends", "{\"address\":\"" + extra.id() + "\",\"service\":null}"), 400), "a", "b");
        assertEquals(1, json(fx.get("/backends?service=a")).get("backends").size(), "nothing added");
        assertEquals(1, json(fx.get("/backends?service=b")).get("backends").size(), "nothing added");
    }
}
