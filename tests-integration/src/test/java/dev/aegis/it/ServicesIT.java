package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several services in one process (SPEC §9), black box: a real {@code bin/aegis} with a
 * {@code services:} file, real loopback clients and backends, the admin API and the metrics.
 */
class ServicesIT {

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
            shutdown:
              drain_timeout: 2s
            """;

    private static String tcpService(String name, TcpEchoBackend... backends) {
        StringBuilder b = new StringBuilder("  - name: " + name + "\n    listen: { tcp: \"127.0.0.1:0\" }\n    backends:\n");
        for (TcpEchoBackend backend : backends) {
            b.append("      - address: \"").append(backend.address()).append("\"\n");
        }
        return b.toString();
    }

    private static String udpService(String name, UdpEchoBackend backend) {
        return "  - name: " + name + "\n    listen: { udp: \"127.0.0.1:0\" }\n    backends:\n"
                + "      - address: \"127.0.0.1:" + backend.port() + "\"\n";
    }

    /** The value of one series in a Prometheus text scrape, or null if absent. */
    private static Double series(String scrape, String nameAndLabels) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(nameAndLabels + " ")) {
                return Double.parseDouble(line.substring(nameAndLabels.length() + 1).trim());
            }
        }
        return null;
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon).replace("[", "").replace("]", ""),
                Integer.parseInt(hostPort.substring(colon + 1)));
    }

    @Test
    void aReloadThatRemovesOneServiceAndAddsAnotherLeavesTheThirdsTransfersCountersAndCircuitsAlone() throws Exception {
        TcpEchoBackend a1 = track(TcpEchoBackend.start("a1", true));
        TcpEchoBackend g1 = track(TcpEchoBackend.start("g1", true));
        TcpEchoBackend g2 = track(TcpEchoBackend.start("g2", true));
        TcpEchoBackend d1 = track(TcpEchoBackend.start("d1", true));
        UdpEchoBackend b1 = track(UdpEchoBackend.start("b1"));
        String before = "services:\n" + tcpService("alpha", a1) + udpService("beta", b1) + tcpService("gamma", g1, g2) + ADMIN;
        AegisProcess aegis = track(AegisProcess.start("services-reload", before));
        AdminHttp api = new AdminHttp(aegis.admin().orElseThrow());
        AdminHttp metrics = new AdminHttp(aegis.metrics().orElseThrow());
        InetSocketAddress alpha = aegis.service("alpha").tcp().get(0);
        InetSocketAddress beta = aegis.service("beta").udp().get(0);
        InetSocketAddress gamma = aegis.service("gamma").tcp().get(0);

        // each service balances to its own backends only
        try (EchoConnection c = new EchoConnection(alpha, 1)) {
            assertEquals("a1", c.backend());
        }
        try (UdpClient u = new UdpClient(beta)) {
            assertEquals("b1:ping", u.ask("ping", 5_000));
        }
        List<EchoConnection> transfers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            EchoConnection c = track(new EchoConnection(gamma, 100 + i));
            assertTrue(c.backend().equals("g1") || c.backend().equals("g2"), c.backend());
            c.exchange(64 * 1024);
            transfers.add(c);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> Double.valueOf(6).equals(
                series(metrics.get("/metrics").body(), "proxy_total_connections_total{service=\"gamma\"}")));
        String scrapeBefore = metrics.get("/metrics").body();
        double gammaAccepted = series(scrapeBefore, "proxy_total_connections_total{service=\"gamma\"}");
        assertEquals(6, gammaAccepted);

        // reload: beta removed, delta added, alpha and gamma as they were
        String after = "services:\n" + tcpService("alpha", a1) + tcpService("gamma", g1, g2) + tcpService("delta", d1) + ADMIN;
        AegisProcess.write(aegis.configFile(), after);
        AdminHttp.Answer reload = api.post("/reload", null);
        assertEquals(200, reload.status(), reload.toString());
        assertEquals(2, reload.json().get("generation").asInt());

        // gamma's transfers carry on byte for byte and end cleanly
        long exchanged = 0;
        for (EchoConnection c : transfers) {
            for (int round = 0; round < 4; round++) {
                c.exchange(64 * 1024);
            }
            exchanged += c.exchanged();
            assertTrue(c.finish(), "a clean end on " + c.backend());
        }
        assertEquals(6L * 5 * 64 * 1024, exchanged, "0 bytes lost");

        String scrapeAfter = metrics.get("/metrics").body();
        assertEquals(gammaAccepted, series(scrapeAfter, "proxy_total_connections_total{service=\"gamma\"}"),
                "gamma's counters unchanged by the reload");
        for (TcpEchoBackend g : List.of(g1, g2)) {
            String labels = "{backend=\"" + g.address() + "\",pool=\"tcp\",service=\"gamma\"}";
            assertEquals(0.0, series(scrapeAfter, "proxy_backend_circuit_state" + labels), "circuit closed");
            assertEquals(1.0, series(scrapeAfter, "proxy_backend_healthy" + labels));
            assertEquals(0.0, series(scrapeAfter, "proxy_backend_failures_total{backend=\"" + g.address() + "\",service=\"gamma\"}"));
        }
        assertEquals(6.0, series(scrapeAfter, "proxy_backend_requests_total{backend=\"" + g1.address() + "\",service=\"gamma\"}")
                + series(scrapeAfter, "proxy_backend_requests_total{backend=\"" + g2.address() + "\",service=\"gamma\"}"));
        assertNull(series(scrapeAfter, "proxy_udp_sessions_total{service=\"beta\"}"), "beta's series are gone");

        // gamma still takes new connections on the same port
        assertEquals(gamma, aegis.service("gamma").tcp().get(0));
        try (EchoConnection c = new EchoConnection(gamma, 7)) {
            c.exchange(1024);
        }

        // beta stopped accepting: a new client gets no answer; delta answers on its new port
        try (UdpClient u = new UdpClient(beta)) {
            u.send("anyone");
            assertNull(u.receive(500), "a removed service opens no new session");
        }
        JsonNode services = api.get("/services").json().get("services");
        List<String> names = new ArrayList<>();
        services.forEach(s -> names.add(s.get("name").asText()));
        assertEquals(List.of("alpha", "gamma", "delta"), names);
        InetSocketAddress delta = address(services.get(2).get("listeners").get("tcp").asText());
        try (EchoConnection c = new EchoConnection(delta, 8)) {
            assertEquals("d1", c.backend());
        }
        try (EchoConnection c = new EchoConnection(alpha, 9)) {
            assertEquals("a1", c.backend());
        }
        assertEquals(0, aegis.logLines().stream().filter(l -> l.contains(" ERROR ")).count(), "no error logged");
    }

    /** A TCP and a UDP server on 127.0.0.2:port that answer with their own port number. */
    private final class PortEcho implements AutoCloseable {
        private final ServerSocket tcp;
        private final DatagramSocket udp;

        PortEcho(int port) throws IOException {
            InetAddress host = InetAddress.getByName("127.0.0.2");
            tcp = new ServerSocket(port, 50, host);
            udp = new DatagramSocket(new InetSocketAddress(host, port));
            Thread.ofVirtual().start(() -> {
                while (!tcp.isClosed()) {
                    try (Socket s = tcp.accept()) {
                        s.getOutputStream().write(("tcp" + port + "\n").getBytes(StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[512];
                while (!udp.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        udp.receive(p);
                        byte[] reply = ("udp" + port).getBytes(StandardCharsets.UTF_8);
                        udp.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void close() {
            try {
                tcp.close();
            } catch (IOException e) {
                // closing anyway
            }
            udp.close();
        }
    }

    /** 21 free ports on 127.0.0.1 and 127.0.0.2, TCP and UDP, starting at the returned one. */
    private List<PortEcho> portRange(int count) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 30_000);
            List<PortEcho> echoes = new ArrayList<>();
            try {
                for (int p = base; p < base + count; p++) {
                    // the proxy's side must be free too
                    try (ServerSocket t = new ServerSocket(p, 1, InetAddress.getByName("127.0.0.1"));
                         DatagramSocket u = new DatagramSocket(new InetSocketAddress("127.0.0.1", p))) {
                        echoes.add(new PortEcho(p));
                    }
                }
                echoes.forEach(resources::add);
                return echoes;
            } catch (IOException e) {
                echoes.forEach(PortEcho::close);
            }
        }
        throw new AssertionError("no free range of " + count + " ports found");
    }

    @Test
    void portRangesOfTcpAndUdpReachTheSamePortOfAPortlessBackend() throws Exception {
        int count = 21;
        List<PortEcho> echoes = portRange(count);
        int first = echoes.get(0).tcp.getLocalPort();
        int last = first + count - 1;
        String yaml = "services:\n"
                + "  - name: range\n"
                + "    listen:\n"
                + "      tcp: \"127.0.0.1:" + first + "-" + last + "\"\n"
                + "      udp: \"127.0.0.1:" + first + "-" + last + "\"\n"
                + "    backends: [ { address: \"127.0.0.2\" } ]\n"
                + ADMIN;
        AegisProcess aegis = track(AegisProcess.start("services-ranges", yaml));
        for (int port = first; port <= last; port++) {
            InetSocketAddress listener = new InetSocketAddress("127.0.0.1", port);
            try (Socket s = new Socket()) {
                s.connect(listener, 5_000);
                s.setSoTimeout(5_000);
                InputStream in = s.getInputStream();
                assertEquals("tcp" + port, Clients.readLine(in), "tcp port " + port);
            }
            try (UdpClient u = new UdpClient(listener)) {
                assertEquals("udp" + port, u.ask("which", 5_000), "udp port " + port);
            }
        }
        JsonNode listeners = new AdminHttp(aegis.admin().orElseThrow()).get("/services").json()
                .get("services").get(0).get("listeners");
        assertEquals(count, listeners.get("tcp").size(), "every port bound: " + listeners);
        assertEquals(count, listeners.get("udp").size());
    }

    @Test
    void twoServicesOnTheSameAddressAreAConfigErrorNamingBoth() throws IOException {
        Path file = AegisProcess.workFile("services-clash", "yaml");
        Files.writeString(file, """
                services:
                  - name: one
                    listen: { udp: "127.0.0.1:5353" }
                    backends: [ { address: "127.0.0.1:53" } ]
                  - name: two
                    listen: { udp: ["127.0.0.1:5300-5400"], tcp: "127.0.0.1:5353" }
                    backends: [ { address: "127.0.0.1:53" } ]
                """);
        CommandLine.Result r = CommandLine.aegis("check", "-c", file.toString());
        assertNotEquals(0, r.exitCode(), r.output());
        Matcher m = Pattern.compile("services\\[1\\]\\.listen\\.udp\\[0\\]: .*one.*|services\\[1\\]\\.listen\\.udp\\[0\\]: .*two.*")
                .matcher(r.output());
        assertTrue(m.find(), r.output());
        assertTrue(r.output().contains("one") && r.output().contains("two"), r.output());
        assertFalse(r.output().contains("listen.tcp"), "tcp and udp on one port do not clash: " + r.output());
    }
}
