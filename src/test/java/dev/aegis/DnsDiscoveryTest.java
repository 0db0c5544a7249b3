package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.admin.AdminServer;
import dev.aegis.backend.Backend;
import dev.aegis.config.ConfigLoader;
import dev.aegis.metrics.ConnectLatency;
import dev.aegis.metrics.ProxyMetrics;
import dev.aegis.testsupport.Dnsmasq;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DNS discovery end to end (SPEC §11): a real dnsmasq on loopback as the resolver, echo backends
 * on 127.0.0.2.. (one port, several loopback addresses, as the addresses of one DNS name), the
 * proxy with its admin API and metrics, and clients going through it.
 */
class DnsDiscoveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<String, TcpEcho> echoes = new HashMap<>();
    private Dnsmasq dns;
    private Aegis aegis;
    private AdminServer admin;
    private ProxyMetrics metrics;
    private Path file;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) {
            r.close();
        }
    }

    /** Echo backends on the same free port of each of these loopback addresses. @return the port */
    private int echoes(String... hosts) throws IOException {
        for (int attempt = 0; ; attempt++) {
            List<TcpEcho> bound = new ArrayList<>();
            try {
                int port = 0;
                for (String host : hosts) {
                    TcpEcho e = new TcpEcho(new InetSocketAddress(InetAddress.getByName(host), port));
                    bound.add(e);
                    port = e.port();
                }
                for (TcpEcho e : bound) {
                    resources.add(e);
                    echoes.put(e.id(), e);
                }
                return port;
            } catch (java.net.BindException e) {
                for (TcpEcho b : bound) {
                    b.close();
                }
                if (attempt == 20) {
                    throw e;
                }
            }
        }
    }

    private void startDns(String hosts, List<String> srv) throws Exception {
        assumeTrue(Dnsmasq.installed(), "dnsmasq is installed by .ci/run (dnsmasq-base)");
        dns = new Dnsmasq(dir, srv);
        dns.hosts(hosts);
        dns.start();
        resources.add(dns);
    }

    private void startAegis(String proxyYaml) throws Exception {
        file = dir.resolve("aegis.yaml");
        writeConfig(proxyYaml);
        ConnectLatency latency = new ConnectLatency();
        aegis = new Aegis(file, ConfigLoader.load(file).config(), latency);
        resources.add(aegis);
        aegis.start();
        admin = new AdminServer(aegis, aegis::status, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                () -> "", List::of);
        admin.start();
        resources.add(admin);
        metrics = new ProxyMetrics(aegis::status, latency);
        metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        resources.add(metrics);
    }

    private void writeConfig(String proxyYaml) throws IOException {
        Files.writeString(file, proxyYaml + """
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                """);
    }

    private Set<String> poolIds() {
        return new TreeSet<>(aegis.service().tcpPool().current().backends().stream().map(Backend::id).toList());
    }

    private static Set<String> ids(String port, String... hosts) {
        Set<String> out = new TreeSet<>();
        for (String h : hosts) {
            out.add(h + ":" + port);
        }
        return out;
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://"
                + admin.address().getHostString() + ":" + admin.address().getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private String scrape() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.address().getPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static double series(String scrape, String series) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        return -1;
    }

    /** One connection through the proxy: a byte sent, the same byte back. */
    private boolean roundTrip() {
        try (Socket s = new Socket()) {
            s.connect(aegis.service().tcpListener().orElseThrow().localAddress(), 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write('x');
            out.flush();
            return in.read() == 'x';
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void threeAddressesGiveThreeBackendsAndAChangedAnswerSwapsOneWhileClientsKeepGettingAnswers() throws Exception {
        int port = echoes("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5");
        startDns("127.0.0.2 app.test\n127.0.0.3 app.test\n127.0.0.4 app.test\n", List.of());
        startAegis("""
                proxy:
                  listen: {tcp: "127.0.0.1:0"}
                  discovery:
                    dns: {names: ["app.test"], refresh: 500ms, port: %d}
                    resolvers: ["%s"]
                """.formatted(port, dns.address()));
        String p = Integer.toString(port);
        await().atMost(Duration.ofSeconds(20)).until(() -> poolIds().equals(ids(p, "127.0.0.2", "127.0.0.3", "127.0.0.4")));
        JsonNode listed = get("/backends").get("backends");
        assertEquals(3, listed.size());
        for (JsonNode b : listed) {
            assertEquals("dns", b.get("source").asText(), b.toString());
            assertEquals(100, b.get("weight").asInt());
        }

        // a client loops through the proxy while DNS changes its answer
        AtomicBoolean go = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Thread client = Thread.ofVirtual().start(() -> {
            while (go.get()) {
                (roundTrip() ? ok : failed).incrementAndGet();
            }
        });
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= 20);
            dns.hosts("127.0.0.3 app.test\n127.0.0.4 app.test\n127.0.0.5 app.test\n");
            dns.reload();
            await().atMost(Duration.ofSeconds(20)).until(() -> poolIds().equals(ids(p, "127.0.0.3", "127.0.0.4", "127.0.0.5")));
            int atChange = ok.get();
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= atChange + 30);
        } finally {
            go.set(false);
            client.join();
        }
        assertEquals(0, failed.get(), "client failures while the set changed (ok=" + ok.get() + ")");
        assertTrue(echoes.get("127.0.0.5:" + p).accepted.get() > 0, "the joined backend serves");

        // DNS gone: the set stays, the errors are counted and scraped
        dns.stop();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                series(scrape(), "proxy_discovery_errors_total{name=\"app.test\",service=\"default\"}") >= 2);
        assertEquals(ids(p, "127.0.0.3", "127.0.0.4", "127.0.0.5"), poolIds());
        assertTrue(roundTrip());
    }

    @Test
    void srvRecordsGiveTheWeightedPoolAndDiscoveredBackendsAreHealthChecked() throws Exception {
        int port = echoes("127.0.0.2", "127.0.0.3");
        startDns("127.0.0.2 t1.test\n127.0.0.3 t2.test\n127.0.0.6 t3.test\n", List.of(
                "_app._tcp.svc.test,t1.test," + port + ",0,30",
                "_app._tcp.svc.test,t2.test," + port + ",0,70",
                "_app._tcp.svc.test,t3.test," + port + ",0,10")); // nothing listens on 127.0.0.6
        startAegis("""
                proxy:
                  listen: {tcp: "127.0.0.1:0"}
                  load_balancing: {algorithm: weighted}
                  discovery:
                    dns: {names: ["_app._tcp.svc.test"], refresh: 500ms}
                    resolvers: ["%s"]
                    health_check: {interval: 100ms, timeout: 500ms, unhealthy_threshold: 1}
                """.formatted(dns.address()));
        String p = Integer.toString(port);
        String dead = "127.0.0.6:" + p;
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Map<String, String> seen = new TreeMap<>();
            for (JsonNode b : get("/backends").get("backends")) {
                seen.put(b.get("address").asText(), b.get("weight").asInt() + " " + b.get("healthy").asBoolean()
                        + " " + b.get("source").asText());
            }
            return seen.equals(Map.of("127.0.0.2:" + p, "30 true dns", "127.0.0.3:" + p, "70 true dns",
                    dead, "10 false dns"));
        });
        for (int i = 0; i < 100; i++) {
            assertTrue(roundTrip());
        }
        // smooth weighted round robin over the healthy two: 30 and 70 of 100 (the proxy's own
        // count: the echoes also see the health checks' connects)
        Map<String, Integer> served = new TreeMap<>();
        for (JsonNode b : get("/backends").get("backends")) {
            served.put(b.get("address").asText(), b.get("total_requests").asInt());
        }
        assertEquals(Map.of("127.0.0.2:" + p, 30, "127.0.0.3:" + p, 70, dead, 0), served);
    }

    @Test
    void aReloadKeepsDiscoveredBackendsWhenDiscoveryIsUnchangedAndADeletedOneComesBack() throws Exception {
        int port = echoes("127.0.0.2", "127.0.0.3");
        TcpEcho fixed = new TcpEcho();
        resources.add(fixed);
        startDns("127.0.0.2 app.test\n127.0.0.3 app.test\n", List.of());
        String discovery = """
                  discovery:
                    dns: {names: ["app.test"], refresh: 500ms, port: %d}
                    resolvers: ["%s"]
                """.formatted(port, dns.address());
        startAegis("proxy:\n  listen: {tcp: \"127.0.0.1:0\"}\n" + discovery);
        String p = Integer.toString(port);
        await().atMost(Duration.ofSeconds(20)).until(() -> poolIds().equals(ids(p, "127.0.0.2", "127.0.0.3")));
        Backend before = aegis.service().tcpPool().current().find("127.0.0.2:" + p);

        writeConfig("proxy:\n  listen: {tcp: \"127.0.0.1:0\"}\n  backends: [{address: \"" + fixed.id() + "\"}]\n" + discovery);
        assertTrue(aegis.reload().ok());
        // the same Backend object right after the reload: no leave and join, counters and health kept
        assertSame(before, aegis.service().tcpPool().current().find("127.0.0.2:" + p));
        Set<String> all = ids(p, "127.0.0.2", "127.0.0.3");
        all.add(fixed.id());
        assertEquals(all, poolIds());
        assertEquals("config", sourceOf(fixed.id()));

        // an operator deletes a discovered backend: DNS still gives it, so the next refresh adds it back
        HttpResponse<String> deleted = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + admin.address().getPort() + "/backends/127.0.0.2:" + p)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, deleted.statusCode(), deleted.body());
        await().atMost(Duration.ofSeconds(20)).until(() -> poolIds().equals(all));

        // a changed discovery config replaces the loop: the new port applies at once, from the last answer
        writeConfig("proxy:\n  listen: {tcp: \"127.0.0.1:0\"}\n" + discovery.replace("port: " + port, "port: 1"));
        assertTrue(aegis.reload().ok());
        assertEquals(ids("1", "127.0.0.2", "127.0.0.3"), poolIds());
    }

    @Test
    void discoveryFillsTheUdpPoolOnlyWhenItHasNoneOfItsOwn() throws Exception {
        startDns("127.0.0.2 app.test\n", List.of());
        String yaml = """
                services:
                  - name: both
                    listen: {tcp: "127.0.0.1:0", udp: "127.0.0.1:0"}
                    discovery: {dns: {names: ["app.test"], refresh: 500ms, port: 5353}, resolvers: ["%s"]}
                  - name: own
                    listen: {tcp: "127.0.0.1:0", udp: "127.0.0.1:0"}
                    udp_backends: [{address: "127.0.0.1:9"}]
                    discovery: {dns: {names: ["app.test"], refresh: 500ms, port: 5353}, resolvers: ["%s"]}
                """.formatted(dns.address(), dns.address());
        startAegis(yaml);
        Service both = aegis.service("both").orElseThrow();
        Service own = aegis.service("own").orElseThrow();
        await().atMost(Duration.ofSeconds(20)).until(() -> own.tcpPool().current().find("127.0.0.2:5353") != null
                && both.udpPool().orElseThrow().current().find("127.0.0.2:5353") != null);
        assertEquals(List.of("127.0.0.1:9"),
                own.udpPool().orElseThrow().current().backends().stream().map(Backend::id).toList());
        JsonNode listed = get("/backends?service=both");
        assertEquals("dns", listed.get("udp_backends").get(0).get("source").asText());
    }

    private String sourceOf(String id) throws Exception {
        for (JsonNode b : get("/backends").get("backends")) {
            if (b.get("address").asText().equals(id)) {
                return b.get("source").asText();
            }
        }
        return null;
    }
}
