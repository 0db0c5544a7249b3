package dev.aegis.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.Aegis;
import dev.aegis.config.ConfigLoader;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
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

/**
 * An Aegis built as the daemon builds it (recorder, core, metrics on a free port) with a TCP
 * service {@code web} (two echo backends) and a UDP service {@code dns} (one echo backend), and
 * the traffic that makes its series exist: connections, datagrams, a rejection, reloads.
 */
final class LiveAegis implements AutoCloseable {

    private final Path file;
    private final TcpEcho webA = new TcpEcho();
    private final TcpEcho webB = new TcpEcho();
    private final UdpEcho dnsEcho = new UdpEcho();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final Aegis aegis;
    final ProxyMetrics metrics;

    LiveAegis(Path dir) throws Exception {
        file = dir.resolve("aegis.yaml");
        Files.writeString(file, config());
        ConnectLatency latency = new ConnectLatency();
        aegis = new Aegis(file, ConfigLoader.load(file).config(), latency);
        aegis.start();
        metrics = new ProxyMetrics(aegis::status, latency);
        metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    private String config() {
        return """
                services:
                  - name: web
                    listen: { tcp: "127.0.0.1:0" }
                    backends:
                      - address: "%s"
                      - address: "%s"
                  - name: dns
                    listen: { udp: "127.0.0.1:0" }
                    backends:
                      - address: "127.0.0.1:%d"
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  access_log: false
                """.formatted(webA.id(), webB.id(), dnsEcho.port());
    }

    /** Where Prometheus scrapes. */
    InetSocketAddress metricsAddress() {
        return metrics.address();
    }

    /** One proxied TCP connection through {@code web}: a byte there and back. */
    void tcpRoundTrip() throws IOException {
        int port = aegis.service("web").orElseThrow().tcpListener().orElseThrow().localAddress().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write('x');
            s.shutdownOutput();
            assertEquals('x', s.getInputStream().read());
        }
    }

    /** One datagram through {@code dns} and its echo. */
    void udpRoundTrip() throws IOException {
        InetSocketAddress proxy = aegis.service("dns").orElseThrow().udpListener().orElseThrow().localAddress();
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            client.setSoTimeout(10_000);
            byte[] data = "ping".getBytes();
            client.send(new DatagramPacket(data, data.length, proxy));
            DatagramPacket reply = new DatagramPacket(new byte[64], 64);
            client.receive(reply);
            assertEquals(4, reply.getLength());
        }
    }

    /** A connection refused while {@code web} drains: a {@code reason="draining"} rejection. */
    void tcpRejection() throws IOException {
        assertTrue(aegis.setDraining("web", true));
        int port = aegis.service("web").orElseThrow().tcpListener().orElseThrow().localAddress().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            try {
                assertEquals(-1, s.getInputStream().read());
            } catch (IOException reset) {
                // closed with unread data: also a refusal
            }
        } finally {
            aegis.setDraining("web", false);
        }
    }

    /** A reload that applies and one that is rejected. */
    void reloads() throws IOException {
        assertTrue(aegis.reload().ok());
        String good = Files.readString(file);
        Files.writeString(file, "services: [broken");
        assertFalse(aegis.reload().ok());
        Files.writeString(file, good);
    }

    /** The whole warm-up: every kind of traffic once. */
    void driveEverything() throws IOException {
        tcpRoundTrip();
        udpRoundTrip();
        tcpRejection();
        reloads();
    }

    String scrape() throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.address().getPort() + "/metrics"))
                .header("Accept", "text/plain").timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    @Override
    public void close() throws Exception {
        metrics.close();
        aegis.close();
        webA.close();
        webB.close();
        dnsEcho.close();
        http.close();
    }
}
