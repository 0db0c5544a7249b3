package dev.aegis.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.Aegis;
import dev.aegis.config.ConfigLoader;
import dev.aegis.testsupport.TcpEcho;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TLS route's pool has series of its own ({@code pool="tls:<first server name>"}); {@code no_route} is a counted rejection. */
class TlsRoutesMetricsTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private TcpEcho echo;
    private Aegis aegis;
    private ProxyMetrics metrics;

    @AfterEach
    void tearDown() throws Exception {
        if (metrics != null) {
            metrics.close();
        }
        if (aegis != null) {
            aegis.close();
        }
        if (echo != null) {
            echo.close();
        }
        http.close();
    }

    @Test
    void routePoolsAndNoRouteShowInTheMetrics() throws Exception {
        echo = new TcpEcho();
        Path file = dir.resolve("aegis.yaml");
        Files.writeString(file, """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: []
                  tls_routes:
                    - server_names: ["a.test"]
                      backends: [ { address: "%s" } ]
                  traffic: { timeout: { client_hello: 200ms } }
                admin: { api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0" }
                logging: { access_log: false }
                """.formatted(echo.id()));
        ConnectLatency latency = new ConnectLatency();
        aegis = new Aegis(file, ConfigLoader.load(file).config(), latency);
        aegis.start();
        metrics = new ProxyMetrics(aegis::status, latency);
        metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));

        // plain text: no route, and the default pool is empty
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(),
                aegis.service().tcpListener().orElseThrow().localAddress().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            try {
                assertEquals(-1, s.getInputStream().read());
            } catch (SocketException reset) {
                // closed either way
            }
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Scrape s = scrape();
            assertEquals(1, s.value("proxy_rejected_connections_total{protocol=\"tcp\",reason=\"no_route\",service=\"default\"}"));
            assertEquals(1, s.value("proxy_backend_healthy{backend=\"" + echo.id() + "\",pool=\"tls:a.test\",service=\"default\"}"));
        });
    }

    private Scrape scrape() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.address().getPort() + "/metrics"))
                .header("Accept", "text/plain").timeout(Duration.ofSeconds(10)).build();
        return Scrape.parse(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
    }
}
