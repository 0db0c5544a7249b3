package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.accept_from} (SPEC §10) behind software no one here wrote: HAProxy in
 * {@code mode tcp} with {@code send-proxy} and with {@code send-proxy-v2} in front of Aegis, which
 * accepts headers from 127.0.0.1. The access line must name the test client's own address and port
 * as {@code client_ip=} and HAProxy's connection as {@code peer=}; the bytes pass unchanged.
 */
class AcceptProxyProtocolIT {

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        return resources.add(resource);
    }

    /** The HAProxy section of the README's example, sending {@code option} (send-proxy or send-proxy-v2). */
    static String haproxyConfig(int port, int aegisPort, String option) {
        return """
                global
                    log stderr format short local0 notice
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 10s
                    timeout server 10s
                listen to_aegis
                    bind 127.0.0.1:PORT
                    server s1 127.0.0.1:AEGISPORT OPTION
                """.replace("AEGISPORT", Integer.toString(aegisPort)).replace("PORT", Integer.toString(port))
                .replace("OPTION", option);
    }

    @Test
    void theAccessLogNamesTheClientBehindHaproxyWithV1AndV2() throws Exception {
        assumeTrue(CommandLine.available("haproxy"), "haproxy is installed by .ci/run");
        TcpEchoBackend echo = track(TcpEchoBackend.start("pp-accept-echo"));
        String yaml = """
                services:
                  - name: behind-haproxy
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "ECHO" } ]
                    proxy_protocol: { accept_from: ["127.0.0.1/32"] }
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                """.replace("ECHO", echo.address());
        AegisProcess aegis = track(AegisProcess.start("pp-accept", yaml));
        int aegisPort = aegis.service("behind-haproxy").tcp().get(0).getPort();

        for (String option : List.of("send-proxy", "send-proxy-v2")) {
            int haproxyPort = startHaproxy(aegisPort, option);
            int clientPort;
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), haproxyPort)) {
                client.setSoTimeout(10_000);
                clientPort = client.getLocalPort();
                byte[] hello = ("hello through " + option).getBytes(StandardCharsets.US_ASCII);
                client.getOutputStream().write(hello);
                client.shutdownOutput();
                assertArrayEquals(hello, client.getInputStream().readNBytes(hello.length), option);
            }
            Pattern line = Pattern.compile("access protocol=tcp service=behind-haproxy client_ip=127\\.0\\.0\\.1:"
                    + clientPort + " peer=127\\.0\\.0\\.1:(\\d+) backend=" + Pattern.quote(echo.address()) + " ");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                String log = aegis.logText();
                Matcher m = line.matcher(log);
                assertTrue(m.find(), "no line like " + line + " in\n" + log);
                // the peer is HAProxy's own connection to Aegis, not the client's
                assertNotEquals(clientPort, Integer.parseInt(m.group(1)), option);
            });
        }

        // the control: a listed source that sends no header is refused, nothing reaches the backend
        int before = echo.accepted();
        try (Socket direct = new Socket(InetAddress.getLoopbackAddress(), aegisPort)) {
            direct.setSoTimeout(10_000);
            direct.getOutputStream().write("no header\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer;
            try {
                answer = direct.getInputStream().readAllBytes();
            } catch (java.net.SocketException reset) {
                answer = new byte[0];
            }
            assertEquals(0, answer.length);
        }
        aegis.awaitLog(0, "reason=bad_proxy_header", Duration.ofSeconds(30));
        assertEquals(before, echo.accepted());
    }

    /** HAProxy in the foreground on a free loopback port, stopped by its PID when the test ends. */
    private int startHaproxy(int aegisPort, String option) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path conf = AegisProcess.workFile("haproxy-" + option, "cfg");
            Files.writeString(conf, haproxyConfig(port, aegisPort, option));
            CommandLine.Result check = CommandLine.run(AegisProcess.home(), 30, "haproxy", "-c", "-f", conf.toString());
            assertEquals(0, check.exitCode(), check.output());
            Path log = AegisProcess.workFile("haproxy-" + option, "log");
            Process p = new ProcessBuilder("haproxy", "-db", "-f", conf.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            track(() -> {
                p.destroy(); // SIGTERM to its PID
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            });
            int candidate = port;
            boolean up = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || listening(candidate), done -> done) && p.isAlive();
            if (up) {
                return port;
            }
        }
        throw new AssertionError("haproxy did not start (see its log in target/it-logs)");
    }

    /** Whether HAProxy accepts on {@code port} (the probe it relays is one more access line, harmless). */
    private static boolean listening(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
