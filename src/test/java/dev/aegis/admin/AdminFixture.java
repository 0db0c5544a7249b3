package dev.aegis.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.Aegis;
import dev.aegis.config.ConfigLoader;
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

/** A real Aegis started from a YAML file, with its admin API on a free loopback port, and an HTTP client. */
final class AdminFixture implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final Path file;
    final Aegis aegis;
    final AdminServer admin;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    AdminFixture(Path file, String yaml, String token) throws Exception {
        this.file = file;
        Files.writeString(file, yaml + "logging:\n  access_log: false\n");
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        admin = new AdminServer(aegis, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), () -> token);
        admin.start();
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

    void rewrite(String yaml) throws IOException {
        Files.writeString(file, yaml + "logging:\n  access_log: false\n");
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
        return send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)));
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
