package dev.aegis.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.metrics.ProxyMetrics;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §5: slow or incomplete requests cannot starve the admin API or the metrics endpoint. The
 * JDK's server reads a request on its executor's thread: with a small pool, four half-sent
 * requests locked the admin API out, two the metrics endpoint, for as long as the client liked.
 */
class SlowRequestsTest {

    /** "A handful" of incomplete requests on each server. */
    private static final int INCOMPLETE = 50;
    /** SPEC §5: a request that has not fully arrived within this is dropped. */
    private static final Duration REQUEST_LIMIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private TcpEcho backend;
    private AdminFixture fx;
    private ProxyMetrics metrics;
    private final List<Socket> held = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void tearDown() throws Exception {
        for (Socket s : held) {
            s.close();
        }
        http.close();
        if (metrics != null) {
            metrics.close();
        }
        if (fx != null) {
            fx.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void incompleteRequestsNeitherStarveTheServersNorStayOpen() throws Exception {
        backend = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend), "");
        metrics = new ProxyMetrics(fx.aegis::status, new dev.aegis.metrics.ConnectLatency());
        metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int adminPort = fx.admin.address().getPort();
        int metricsPort = metrics.address().getPort();

        long sentAt = System.nanoTime();
        List<Socket> incomplete = new ArrayList<>();
        for (int i = 0; i < INCOMPLETE; i++) {
            incomplete.add(hold(adminPort, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
            incomplete.add(hold(metricsPort, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        }
        // and a few that never send a byte
        List<Socket> silent = List.of(hold(adminPort, ""), hold(metricsPort, ""));

        // Well before the incomplete requests time out, the real ones are answered.
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().untilAsserted(() -> {
            assertEquals(200, status(adminPort, "/health"));
            assertEquals(200, status(adminPort, "/status"));
            assertEquals(200, status(metricsPort, "/metrics"));
        });

        // The server drops every incomplete connection once the limit is over (its timer ticks every second).
        Duration margin = Duration.ofSeconds(3);
        List<Socket> all = new ArrayList<>(incomplete);
        all.addAll(silent);
        for (int i = 0; i < all.size(); i++) {
            Socket s = all.get(i);
            long left = REQUEST_LIMIT.plus(margin).toMillis() - Duration.ofNanos(System.nanoTime() - sentAt).toMillis();
            assertTrue(closedByServerWithin(s, Math.max(left, 1)),
                    "incomplete request " + i + " to port " + s.getPort() + " still open " + REQUEST_LIMIT.plus(margin)
                            + " after it was sent (admin " + adminPort + ", metrics " + metricsPort + ")");
        }
        // ... and the servers still answer afterwards.
        assertEquals(200, status(adminPort, "/health"));
        assertEquals(200, status(metricsPort, "/metrics"));
    }

    private Socket hold(int port, String partialRequest) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        held.add(s);
        s.getOutputStream().write(partialRequest.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    private int status(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(2)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Whether the server closes {@code s} (EOF or reset) within {@code millis}; nothing else arrives. */
    private static boolean closedByServerWithin(Socket s, long millis) throws IOException {
        s.setSoTimeout((int) millis);
        InputStream in = s.getInputStream();
        try {
            while (in.read() != -1) {
                // the server may answer 408 or 400 before closing; either way it is closed afterwards
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }
}
