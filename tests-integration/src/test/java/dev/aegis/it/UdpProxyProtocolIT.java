package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.send: v2} on a UDP service (SPEC §10) in front of a resolver no one here
 * wrote: unbound 1.17 with {@code proxy-protocol-port}, which reads a v2 header on every datagram
 * to that port. {@code dig} is answered through Aegis, and unbound's query log names the client's
 * address (the client binds 127.0.0.5 or 127.0.0.6) where, without the header, it would name
 * Aegis's (127.0.0.1). The reply passes back byte for byte as unbound sent it.
 *
 * <p>unbound and dig are installed by {@code .ci/run}; without them these tests fail rather than
 * skip, so a machine that lacks them cannot pass for one that checked.
 */
class UdpProxyProtocolIT {

    private static final Path UNBOUND = Path.of("/usr/sbin/unbound");

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

    /**
     * The unbound server of the README's example: {@code proxyPort} requires a v2 header (UDP and
     * TCP), {@code plainPort} is a plain port for the control queries; two names answered locally,
     * so nothing is ever sent to the internet. ACLs are checked against the sender (Aegis), so
     * loopback is allowed.
     */
    static String unboundConfig(Path dir, int proxyPort, int plainPort) {
        return """
                server:
                    interface: 127.0.0.1@PROXY
                    interface: 127.0.0.1@PLAIN
                    proxy-protocol-port: PROXY
                    do-daemonize: no
                    chroot: ""
                    username: ""
                    directory: "DIR"
                    pidfile: "DIR/unbound.pid"
                    logfile: "DIR/unbound.log"
                    use-syslog: no
                    verbosity: 1
                    log-queries: yes
                    do-ip6: no
                    num-threads: 1
                    access-control: 127.0.0.0/8 allow
                    module-config: "iterator"
                    local-zone: "aegis.test." static
                    local-data: "www.aegis.test. 300 IN A 192.0.2.7"
                    local-data: "raw.aegis.test. 300 IN TXT passed-back-unchanged"
                remote-control:
                    control-enable: no
                """.replace("DIR", dir.toString()).replace("PROXY", Integer.toString(proxyPort))
                .replace("PLAIN", Integer.toString(plainPort));
    }

    /** Two distinct ports free for UDP and TCP on 127.0.0.1: unbound binds both protocols on each. */
    private static int[] freeDnsPorts() throws IOException {
        for (int attempt = 0; ; attempt++) {
            try (DatagramSocket u1 = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 DatagramSocket u2 = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 ServerSocket t1 = new ServerSocket(u1.getLocalPort(), 1, InetAddress.getLoopbackAddress());
                 ServerSocket t2 = new ServerSocket(u2.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return new int[] {t1.getLocalPort(), t2.getLocalPort()};
            } catch (java.net.BindException e) {
                if (attempt == 50) {
                    throw e;
                }
            }
        }
    }

    /** unbound in the foreground, answering on its plain port; another pair of ports if it could not bind. */
    private Unbound startUnbound() throws IOException {
        assertTrue(Files.isExecutable(UNBOUND) && CommandLine.available("dig"),
                "unbound and dig are installed by .ci/run (unbound, dnsutils)");
        for (int attempt = 0; attempt < 5; attempt++) {
            int[] ports = freeDnsPorts();
            Path dir = AegisProcess.workFile("unbound", "d");
            Files.createDirectories(dir);
            Path conf = dir.resolve("unbound.conf");
            Files.writeString(conf, unboundConfig(dir, ports[0], ports[1]));
            CommandLine.Result check = CommandLine.run(dir, 30, "/usr/sbin/unbound-checkconf", conf.toString());
            assertEquals(0, check.exitCode(), check.output());
            Process p = new ProcessBuilder(UNBOUND.toString(), "-d", "-c", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            track(() -> {
                p.destroy(); // SIGTERM: unbound stops at once
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            });
            boolean answers = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> !p.isAlive() || dig("127.0.0.1", ports[1], "www.aegis.test").contains("192.0.2.7"),
                            done -> done) && p.isAlive();
            if (answers) {
                return new Unbound(ports[0], ports[1], dir.resolve("unbound.log"));
            }
        }
        throw new AssertionError("unbound did not start (see its logs in target/it-logs)");
    }

    private record Unbound(int proxyPort, int plainPort, Path log) {
        String logText() throws IOException {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
        }
    }

    private static String dig(String source, int port, String name) {
        return CommandLine.run(AegisProcess.home(), 20, "dig", "-b", source, "@127.0.0.1", "-p", Integer.toString(port),
                name, "A", "+short", "+tries=1", "+time=2").output().trim();
    }

    private AegisProcess aegisInFrontOf(Unbound unbound) {
        String yaml = "services:\n"
                + "  - name: dns\n"
                + "    listen: { udp: \"127.0.0.1:0\" }\n"
                + "    backends: [ { address: \"127.0.0.1:" + unbound.proxyPort() + "\" } ]\n"
                + "    proxy_protocol: { send: v2 }\n"
                + ADMIN;
        return track(AegisProcess.start("pp-unbound", yaml));
    }

    @Test
    void digThroughAegisIsAnsweredAndUnboundLogsTheClientsAddress() throws Exception {
        Unbound unbound = startUnbound();
        int port = aegisInFrontOf(unbound).service("dns").udp().get(0).getPort();

        // two clients on two loopback addresses; Aegis reaches unbound from 127.0.0.1. A retry
        // (dig's own timeout is 2 s) only so that a busy machine cannot fail the test.
        for (String client : List.of("127.0.0.5", "127.0.0.6")) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertEquals("192.0.2.7", dig(client, port, "www.aegis.test")));
        }

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String log = unbound.logText();
            assertTrue(log.contains(" info: 127.0.0.5 www.aegis.test. A IN"), log);
            assertTrue(log.contains(" info: 127.0.0.6 www.aegis.test. A IN"), log);
        });
        String log = unbound.logText();
        assertFalse(log.contains("could not match PROXYv2 header") || log.contains("could not consume PROXYv2 header"), log);
    }

    @Test
    void theReplyComesBackByteForByteAsUnboundSentIt() throws Exception {
        Unbound unbound = startUnbound();
        InetSocketAddress listener = aegisInFrontOf(unbound).service("dns").udp().get(0);
        byte[] query = txtQuery(0x5A17, "raw.aegis.test");

        byte[] direct;
        try (DatagramSocket control = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            direct = ask(control, query, new InetSocketAddress(InetAddress.getLoopbackAddress(), unbound.plainPort()));
        }
        byte[] proxied;
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.5"), 0))) {
            proxied = ask(client, query, listener);
        }
        assertTrue(new String(direct, StandardCharsets.ISO_8859_1).contains("passed-back-unchanged"), Arrays.toString(direct));
        assertArrayEquals(direct, proxied, "the reply through Aegis is unbound's, unchanged");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertTrue(unbound.logText().contains(" info: 127.0.0.5 raw.aegis.test. TXT IN"), unbound.logText()));
    }

    private static byte[] ask(DatagramSocket socket, byte[] query, InetSocketAddress to) throws IOException {
        socket.setSoTimeout(10_000);
        socket.send(new DatagramPacket(query, query.length, to));
        DatagramPacket in = new DatagramPacket(new byte[4096], 4096);
        socket.receive(in);
        return Arrays.copyOf(in.getData(), in.getLength());
    }

    /** A DNS query (RFC 1035 §4.1): header with RD, one question {@code name} TXT IN. */
    private static byte[] txtQuery(int id, String name) {
        var out = new java.io.ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) (id >> 8), (byte) id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, 16, 0, 1});
        return out.toByteArray();
    }
}
