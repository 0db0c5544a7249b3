package dev.aegis.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP backend that answers every path with its name ({@code {"server":"NAME"}}) and
 * {@code /health} with a status the test switches. It can be stopped and started again on the
 * same port, as a crashed and restarted service would be.
 */
final class HttpNameBackend implements AutoCloseable {

    private final String name;
    /** Chosen by the first bind, kept for restarts. */
    private int port;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile int healthStatus = 200;
    private HttpServer server;
    private ExecutorService executor;

    private HttpNameBackend(String name) {
        this.name = name;
    }

    /** Starts {@code name} on a free loopback port. */
    static HttpNameBackend start(String name) {
        HttpNameBackend b = new HttpNameBackend(name);
        b.bind(0);
        return b;
    }

    private void bind(int onPort) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 256);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind " + name + " on port " + onPort, e);
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        contexts();
        server.start();
        port = server.getAddress().getPort();
    }

    private void contexts() {
        server.createContext("/health", ex -> reply(ex, healthStatus, "{\"status\":\"" + (healthStatus < 400 ? "healthy" : "unhealthy") + "\"}"));
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            reply(ex, 200, "{\"server\":\"" + name + "\"}");
        });
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (var out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    /** {@code 127.0.0.1:PORT}, as written in the config and shown in Aegis's logs. */
    String address() {
        return "127.0.0.1:" + port;
    }

    /** Requests served, {@code /health} not counted. */
    int requests() {
        return requests.get();
    }

    /** What {@code /health} answers from now on: 200 when healthy, 503 when not. */
    void setHealthy(boolean healthy) {
        healthStatus = healthy ? 200 : 503;
    }

    /** Stops listening and closes its connections, as a crash would. */
    void stop() {
        if (server != null) {
            server.stop(0);
            executor.close();
            server = null;
        }
    }

    /** Starts again on the same port. */
    void restart() {
        if (server == null) {
            bind(port);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
