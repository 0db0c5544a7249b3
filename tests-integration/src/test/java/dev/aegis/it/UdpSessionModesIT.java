package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The UDP session modes of a service (SPEC §9) in front of software no one here wrote: dnsmasq
 * answering {@code dig} through {@code udp.responses: 1}, and {@code udp.per_packet} spreading one
 * client's datagrams over three backends.
 */
class UdpSessionModesIT {

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        return resources.add(resource);
    }

    private static final String ADMIN = """
            admin:
              api_address: "127.0.0.1:0"
              metrics_address: "127.0.0.1:0"
            """;

    /** A port free for UDP and TCP on 127.0.0.1: dnsmasq binds both. */
    private static int freeDnsPort() throws IOException {
        for (int attempt = 0; ; attempt++) {
            try (DatagramSocket u = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());
                 java.net.ServerSocket t = new java.net.ServerSocket(u.getLocalPort(), 1, java.net.InetAddress.getLoopbackAddress())) {
                return t.getLocalPort();
            } catch (java.net.BindException e) {
                if (attempt == 50) {
                    throw e;
                }
            }
        }
    }

    /** dnsmasq answering on a free port; another try on another port if it could not bind (a race with other tests). */
    private int startDnsmasq() throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freeDnsPort();
            Process p = dnsmasq(port);
            boolean answers = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> !p.isAlive() || CommandLine.run(AegisProcess.home(), 10, "dig", "@127.0.0.1", "-p",
                            Integer.toString(port), "aegis.test", "+short", "+tries=1", "+time=1").output().contains("10.1.2.3"),
                            done -> done) && p.isAlive();
            if (answers) {
                return port;
            }
        }
        throw new AssertionError("dnsmasq did not start (see its logs in target/it-logs)");
    }

    /** dnsmasq in the foreground on 127.0.0.1:port, answering one name from the command line only. */
    private Process dnsmasq(int port) throws IOException {
        Path log = AegisProcess.workFile("dnsmasq", "log");
        Process p = new ProcessBuilder("/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--address=/aegis.test/10.1.2.3", "--pid-file", "--log-queries", "--log-facility=-")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        track(() -> {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        });
        return p;
    }

    @Test
    void dnsThroughAServiceWithOneResponsePerSessionLeavesNoSessionBehind() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/dnsmasq")) && CommandLine.available("dig"),
                "dnsmasq and dig are installed by .ci/run (dnsmasq-base, dnsutils)");
        int dnsPort = startDnsmasq();
        String yaml = "services:\n"
                + "  - name: dns\n"
                + "    listen: { udp: \"127.0.0.1:0\" }\n"
                + "    backends: [ { address: \"127.0.0.1:" + dnsPort + "\" } ]\n"
                + "    udp: { responses: 1 }\n"
                + ADMIN;
        AegisProcess aegis = track(AegisProcess.start("udp-responses", yaml));
        int port = aegis.service("dns").udp().get(0).getPort();
        // dnsmasq may take a moment to bind: a first query through Aegis says when it answers
        await().atMost(Duration.ofSeconds(10)).until(() -> CommandLine.run(AegisProcess.home(), 10,
                "dig", "@127.0.0.1", "-p", Integer.toString(port), "aegis.test", "+short", "+tries=1", "+time=1")
                .output().contains("10.1.2.3"));

        AdminHttp metrics = new AdminHttp(aegis.metrics().orElseThrow());
        double sessionsBefore = value(metrics.get("/metrics").body(), "proxy_udp_sessions_total{service=\"dns\"}");
        Path batch = AegisProcess.workFile("dig", "batch");
        Files.writeString(batch, "aegis.test\n".repeat(200));
        CommandLine.Result r = CommandLine.run(AegisProcess.home(), 120, "dig", "@127.0.0.1", "-p", Integer.toString(port),
                "-f", batch.toString(), "+short", "+tries=1", "+time=2");
        long answered = r.output().lines().filter(l -> l.equals("10.1.2.3")).count();
        assertEquals(200, answered, r.output());

        // each session ended with its answer: none is left once the last reply went out
        await().atMost(Duration.ofMillis(500)).untilAsserted(() -> {
            String scrape = metrics.get("/metrics").body();
            assertTrue(scrape.contains("proxy_udp_active_sessions{service=\"dns\"} 0"), scrape);
        });
        double sessions = value(metrics.get("/metrics").body(), "proxy_udp_sessions_total{service=\"dns\"}");
        assertEquals(200, sessions - sessionsBefore, "one session per query");
    }

    private static double value(String scrape, String series) {
        return scrape.lines().filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .findFirst().orElseThrow(() -> new AssertionError(series + " missing:\n" + scrape));
    }

    @Test
    void perPacketSpreadsOneClientsDatagramsEvenlyAndEveryReplyComesBack() throws Exception {
        UdpEchoBackend[] backends = {
            track(UdpEchoBackend.start("u1")), track(UdpEchoBackend.start("u2")), track(UdpEchoBackend.start("u3"))};
        StringBuilder yaml = new StringBuilder("services:\n  - name: stats\n    listen: { udp: \"127.0.0.1:0\" }\n    backends:\n");
        for (UdpEchoBackend b : backends) {
            yaml.append("      - address: \"127.0.0.1:").append(b.port()).append("\"\n");
        }
        yaml.append("    udp: { per_packet: true }\n").append(ADMIN);
        AegisProcess aegis = track(AegisProcess.start("udp-per-packet", yaml.toString()));
        Map<String, Integer> perBackend = new TreeMap<>();
        try (UdpClient client = track(new UdpClient(aegis.service("stats").udp().get(0)))) {
            for (int i = 0; i < 300; i++) {
                String reply = client.ask("m" + i, 5_000);
                assertTrue(reply != null && reply.endsWith(":m" + i), "reply to m" + i + ": " + reply);
                perBackend.merge(reply.substring(0, reply.indexOf(':')), 1, Integer::sum);
            }
        }
        assertEquals(Map.of("u1", 100, "u2", 100, "u3", 100), perBackend);
    }
}
