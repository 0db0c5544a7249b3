package dev.aegis.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.Aegis;
import dev.aegis.config.ConfigLoader;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A real Aegis started from a YAML file, with its admin API on a free loopback port, and an HTTP client. */
final class AdminFixture implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final Path file;
    final Aegis aegis;
    final AdminServer admin;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param proxyYaml the {@code proxy:} block; the fixture adds {@code admin:} (port 0 everywhere,
     *                  so that an Aegis binding its own admin and metrics servers never collides)
     * @param token     {@code admin.api_token}, also what this fixture's AdminServer requires
     */
    AdminFixture(Path file, String proxyYaml, String token) throws Exception {
        this.file = file;
        this.token = token;
        rewrite(proxyYaml);
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        admin = new AdminServer(aegis, aegis::status, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), () -> token, List::of);
        admin.start();
    }

    /** TCP and UDP listeners, {@code backend} for TCP and the discard port as the one UDP backend. */
    static String tcpAndUdpConfig(TcpEcho backend) {
        return """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                    udp: "127.0.0.1:0"
                  backends:
                    - address: "%s"
                  udp_backends:
                    - address: "127.0.0.1:9"
                """.formatted(backend.id());
    }

    /** A TCP-only config in front of the given backends. */
    static String tcpConfig(TcpEcho... backends) {
        StringBuilder b = new StringBuilder("""
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                """);
        for (TcpEcho e : backends) {
            b.append("    - address: \"").append(e.id()).append("\"\n");
        }
        return b.toString();
    }

    /** Writes the config file: {@code proxyYaml} plus the fixture's admin and logging sections. */
    void rewrite(String proxyYaml) throws IOException {
        Files.writeString(file, proxyYaml + """
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                  api_token: "%s"
                logging:
                  access_log: false
                """.formatted(token));
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.address().getPort() + path))
                .timeout(Duration.ofSeconds(10));
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).GET());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send(request(path).DELETE());
    }

    static JsonNode json(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body());
    }

    int tcpPort() {
        return aegis.service().tcpListener().orElseThrow().localAddress().getPort();
    }

    /**
     * One connection through the proxy: sends a line and reads the echo to EOF.
     *
     * @return the bytes echoed, empty if the proxy closed the connection at once
     */
    String roundTrip(String text) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcpPort())) {
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
                s.shutdownOutput();
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException refused) {
                return ""; // reset by a proxy that closed at once
            }
        }
    }

    @Override
    public void close() {
        admin.close();
        aegis.close();
        http.close();
    }
}
