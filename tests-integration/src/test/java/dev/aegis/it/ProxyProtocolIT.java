package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.send} (SPEC §10) against software no one here wrote: Aegis sends v1 and v2
 * headers to nginx ({@code listen ... proxy_protocol}, answering
 * {@code $proxy_protocol_addr:$proxy_protocol_port}) and to HAProxy ({@code bind ... accept-proxy},
 * answering {@code %[src]:%[src_port]}); both must name the client socket's own address and port.
 * UDP: a UDP backend of this test decodes the v2 {@code DGRAM} header by hand, byte by byte from
 * the specification; {@link UdpProxyProtocolIT} puts a real resolver (unbound) behind it.
 */
class ProxyProtocolIT {

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

    /** The nginx server of the README's example: the address the PROXY header announced. */
    static String nginxConfig(Path dir, int port) {
        return """
                worker_processes 1;
                error_log DIR/error.log;
                pid DIR/nginx.pid;
                events { worker_connections 64; }
                http {
                    access_log off;
                    client_body_temp_path DIR/client_body;
                    proxy_temp_path DIR/proxy;
                    fastcgi_temp_path DIR/fastcgi;
                    uwsgi_temp_path DIR/uwsgi;
                    scgi_temp_path DIR/scgi;
                    server {
                        listen 127.0.0.1:PORT proxy_protocol;
                        location / {
                            default_type text/plain;
                            return 200 "$proxy_protocol_addr:$proxy_protocol_port";
                        }
                    }
                }
                """.replace("DIR", dir.toString()).replace("PORT", Integer.toString(port));
    }

    /** The HAProxy frontend of the README's example: {@code src} is the address of the PROXY header. */
    static String haproxyConfig(int port) {
        return """
                global
                    log stderr format short local0 notice
                defaults
                    mode http
                    timeout connect 5s
                    timeout client 10s
                    timeout server 10s
                frontend proxied
                    bind 127.0.0.1:PORT accept-proxy
                    http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port]"
                """.replace("PORT", Integer.toString(port));
    }

    @Test
    void nginxSeesTheClientThroughV1AndV2() throws Exception {
        assumeTrue(CommandLine.available("nginx"), "nginx is installed by .ci/run");
        int port = startServer("nginx", p -> {
            Path dir = AegisProcess.workFile("nginx", "d");
            try {
                Files.createDirectories(dir);
                Path conf = dir.resolve("nginx.conf");
                Files.writeString(conf, nginxConfig(dir, p));
                return List.of("nginx", "-e", dir.resolve("error.log").toString(), "-p", dir.toString(),
                        "-c", conf.toString(), "-g", "daemon off;");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertClientSeenThroughV1AndV2("nginx", port);
    }

    @Test
    void haproxySeesTheClientThroughV1AndV2() throws Exception {
        assumeTrue(CommandLine.available("haproxy"), "haproxy is installed by .ci/run");
        int port = startServer("haproxy", p -> {
            Path conf = AegisProcess.workFile("haproxy", "cfg");
            try {
                Files.writeString(conf, haproxyConfig(p));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            CommandLine.Result check = CommandLine.run(AegisProcess.home(), 30, "haproxy", "-c", "-f", conf.toString());
            assertEquals(0, check.exitCode(), check.output());
            return List.of("haproxy", "-db", "-f", conf.toString());
        });
        assertClientSeenThroughV1AndV2("haproxy", port);
    }

    private void assertClientSeenThroughV1AndV2(String server, int port) throws IOException {
        String yaml = "services:\n"
                + service("send-v1", port, "v1")
                + service("send-v2", port, "v2")
                + service("send-none", port, "none")
                + ADMIN;
        AegisProcess aegis = track(AegisProcess.start("pp-" + server, yaml));
        for (String name : List.of("send-v1", "send-v2")) {
            for (int i = 0; i < 3; i++) {
                try (Socket client = new Socket(InetAddress.getLoopbackAddress(), aegis.service(name).tcp().get(0).getPort())) {
                    client.setSoTimeout(10_000);
                    String body = httpGet(client);
                    assertEquals("127.0.0.1:" + client.getLocalPort(), body, server + " through " + name);
                }
            }
        }
        // the control: without a header, a listener that requires one refuses the connection
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), aegis.service("send-none").tcp().get(0).getPort())) {
            client.setSoTimeout(10_000);
            String response = new String(request(client), StandardCharsets.ISO_8859_1);
            assertTrue(!response.contains("127.0.0.1:" + client.getLocalPort()), response);
        }
    }

    private static String service(String name, int backendPort, String send) {
        return "  - name: " + name + "\n"
                + "    listen: { tcp: \"127.0.0.1:0\" }\n"
                + "    backends: [ { address: \"127.0.0.1:" + backendPort + "\" } ]\n"
                + "    proxy_protocol: { send: " + send + " }\n";
    }

    /** An HTTP/1.0 GET on {@code client}: the body of the answer. */
    private static String httpGet(Socket client) throws IOException {
        String response = new String(request(client), StandardCharsets.ISO_8859_1);
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    private static byte[] request(Socket client) throws IOException {
        client.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        try {
            return client.getInputStream().readAllBytes();
        } catch (java.net.SocketException e) {
            return ("reset: " + e.getMessage()).getBytes(StandardCharsets.US_ASCII); // a refusal may be a reset
        }
    }

    /**
     * Starts a server in the foreground on a free loopback port, and stops it by its PID when the
     * test ends; another port if it could not bind (a race with other tests for the free port).
     */
    private int startServer(String name, IntFunction<List<String>> command) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path log = AegisProcess.workFile(name, "log");
            Process p = new ProcessBuilder(command.apply(port)).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            track(() -> {
                p.destroy(); // SIGTERM to its PID: nginx and HAProxy both stop at once
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            });
            int candidate = port;
            boolean up = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || accepts(candidate), done -> done) && p.isAlive();
            if (up) {
                return port;
            }
        }
        throw new AssertionError(name + " did not start (see its log in target/it-logs)");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- UDP

    @Test
    void everyDatagramToAUdpBackendStartsWithAV2Header() throws Exception {
        DgramHeaderBackend backend = track(new DgramHeaderBackend());
        String yaml = "services:\n"
                + "  - name: dns\n"
                + "    listen: { udp: \"127.0.0.1:0\" }\n"
                + "    backends: [ { address: \"127.0.0.1:" + backend.port() + "\" } ]\n"
                + "    proxy_protocol: { send: v2 }\n"
                + ADMIN;
        AegisProcess aegis = track(AegisProcess.start("pp-udp", yaml));
        InetSocketAddress listener = aegis.service("dns").udp().get(0);
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            client.setSoTimeout(5_000);
            for (String payload : List.of("first", "second", "third")) {
                byte[] out = payload.getBytes(StandardCharsets.US_ASCII);
                client.send(new DatagramPacket(out, out.length, listener));
                DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
                client.receive(in);
                String reply = new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII);
                // the reply is the backend's, unchanged; it says what the header carried
                assertEquals("127.0.0.1:" + client.getLocalPort() + " -> 127.0.0.1:" + listener.getPort() + " | " + payload,
                        reply);
            }
        }
    }

    /**
     * Decodes the v2 header of every datagram by hand (PROXY protocol specification, section 2.2:
     * 12-byte signature, 0x21 = v2 PROXY, 0x12 = INET DGRAM, 16-bit length, then source and
     * destination address and port) and answers {@code src:port -> dst:port | payload}, or
     * {@code bad header: ...}.
     */
    private static final class DgramHeaderBackend implements AutoCloseable {
        private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
        private final DatagramSocket socket;
        private final Thread thread;

        DgramHeaderBackend() throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = Thread.ofPlatform().daemon().name("pp-dgram-backend").start(this::serve);
        }

        int port() {
            return socket.getLocalPort();
        }

        private void serve() {
            byte[] buf = new byte[65_535];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] answer = describe(Arrays.copyOf(p.getData(), p.getLength())).getBytes(StandardCharsets.US_ASCII);
                    socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
                } catch (IOException e) {
                    // closed, or a client gone
                }
            }
        }

        private static String describe(byte[] d) {
            if (d.length < 28 || !Arrays.equals(Arrays.copyOf(d, 12), SIGNATURE)) {
                return "bad header: no v2 signature";
            }
            if (d[12] != 0x21 || d[13] != 0x12) {
                return String.format("bad header: version/command %02x, family/transport %02x", d[12], d[13]);
            }
            int length = ((d[14] & 0xFF) << 8) | (d[15] & 0xFF);
            if (length < 12 || 16 + length > d.length) {
                return "bad header: length " + length;
            }
            String src = (d[16] & 0xFF) + "." + (d[17] & 0xFF) + "." + (d[18] & 0xFF) + "." + (d[19] & 0xFF);
            String dst = (d[20] & 0xFF) + "." + (d[21] & 0xFF) + "." + (d[22] & 0xFF) + "." + (d[23] & 0xFF);
            int srcPort = ((d[24] & 0xFF) << 8) | (d[25] & 0xFF);
            int dstPort = ((d[26] & 0xFF) << 8) | (d[27] & 0xFF);
            String payload = new String(d, 16 + length, d.length - 16 - length, StandardCharsets.US_ASCII);
            return src + ":" + srcPort + " -> " + dst + ":" + dstPort + " | " + payload;
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(5_000);
        }
    }
}
