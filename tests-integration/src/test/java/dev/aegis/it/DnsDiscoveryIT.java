package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DNS discovery (SPEC §11) black-box: {@code bin/aegis} asks a real dnsmasq for SRV records whose
 * weights shape the pool, serves through the discovered backends, and keeps them when dnsmasq
 * dies while the error counter rises in the scrape.
 */
class DnsDiscoveryIT {

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        return resources.add(resource);
    }

    private static int freeDnsPort() throws IOException {
        for (int attempt = 0; ; attempt++) {
            try (DatagramSocket u = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 ServerSocket t = new ServerSocket(u.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return t.getLocalPort();
            } catch (java.net.BindException e) {
                if (attempt == 50) {
                    throw e;
                }
            }
        }
    }

    /** dnsmasq on 127.0.0.1:port answering t.test from a hosts file and two SRV records onto it. */
    private Process dnsmasq(int port, int p1, int p2) throws IOException {
        Path hosts = AegisProcess.workFile("dnsmasq-hosts", "txt");
        Files.writeString(hosts, "127.0.0.1 t.test\n");
        // dnsmasq reads it after dropping to nobody
        Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
        Path log = AegisProcess.workFile("dnsmasq", "log");
        Process p = new ProcessBuilder("/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hosts, "--srv-host=_echo._tcp.it.test,t.test," + p1 + ",0,25",
                "--srv-host=_echo._tcp.it.test,t.test," + p2 + ",0,75", "--pid-file", "--log-queries", "--log-facility=-")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        track(() -> {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        });
        return p;
    }

    private static double value(String scrape, String series) {
        return scrape.lines().filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .findFirst().orElse(-1);
    }

    @Test
    void srvRecordsBecomeTheWeightedPoolAndADeadResolverKeepsItAndIsCounted() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/dnsmasq")), "dnsmasq is installed by .ci/run (dnsmasq-base)");
        HttpNameBackend a = track(HttpNameBackend.start("a"));
        HttpNameBackend b = track(HttpNameBackend.start("b"));
        int dnsPort = freeDnsPort();
        Process dns = dnsmasq(dnsPort, a.port(), b.port());
        String yaml = """
                services:
                  - name: disc
                    listen: { tcp: "127.0.0.1:0" }
                    load_balancing: { algorithm: weighted }
                    discovery:
                      dns: { names: ["_echo._tcp.it.test"], refresh: 500ms }
                      resolvers: ["127.0.0.1:%d"]
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                """.formatted(dnsPort);
        AegisProcess aegis = track(AegisProcess.start("dns-discovery", yaml));
        AdminHttp api = new AdminHttp(aegis.admin().orElseThrow());
        AdminHttp metrics = new AdminHttp(aegis.metrics().orElseThrow());
        String idA = "127.0.0.1:" + a.port();
        String idB = "127.0.0.1:" + b.port();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Map<String, String> seen = new TreeMap<>();
            for (JsonNode n : api.get("/backends?service=disc").json().get("backends")) {
                seen.put(n.get("address").asText(), n.get("weight").asInt() + " " + n.get("source").asText());
            }
            return seen.equals(Map.of(idA, "25 dns", idB, "75 dns"));
        });

        InetSocketAddress proxy = aegis.service("disc").tcp().get(0);
        Map<String, Integer> answers = new TreeMap<>();
        for (int i = 0; i < 100; i++) {
            answers.merge(Clients.whoAnswers(proxy), 1, Integer::sum);
        }
        assertEquals(Map.of("a", 25, "b", 75), answers, "smooth weighted round robin over the SRV weights");

        dns.destroy();
        assertTrue(dns.waitFor(5, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> value(metrics.get("/metrics").body(),
                "proxy_discovery_errors_total{name=\"_echo._tcp.it.test\",service=\"disc\"}") >= 2);
        assertEquals(2, api.get("/backends?service=disc").json().get("backends").size(), "the last good set stays");
        assertTrue(Clients.whoAnswers(proxy).matches("[ab]"));
    }
}
