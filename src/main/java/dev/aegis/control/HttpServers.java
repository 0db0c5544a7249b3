package dev.aegis.control;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What the admin API and the metrics endpoint share about running the JDK's HTTP server: how it
 * is started (one virtual thread per request) and stopped, and its JVM-wide limits.
 *
 * <p>The limits The server reads them once, when the first one starts, so {@code AdminServer} and
 * {@code ProxyMetrics} both apply them in their static initialisers; a {@code -D} on the command
 * line wins.
 * <ul>
 *   <li>Slow or incomplete requests (SPEC §5): the server reads a request line and its headers
 *       on the executor's thread, blocking, with no timeout of its own. {@code maxReqTime}
 *       (seconds) closes a connection whose request (headers and body) has not fully arrived 5 s
 *       after its first byte; one that sends nothing at all is closed after the same 5 s by the
 *       idle task, which runs every {@code clockTick} ms (default 10 s, so up to 15 s).</li>
 *   <li>{@code maxConnections} bounds what a client that opens connections faster than they time
 *       out can hold (per server), so these ports cannot take the descriptors the proxy needs.</li>
 *   <li>{@code maxReqHeaderSize}: the default (380 KB of request headers) is far more than any
 *       admin or scrape request needs: bigger ones get 431 instead of being read.</li>
 * </ul>
 */
public final class HttpServers {

    private HttpServers() {
    }

    /** Sets each limit unless it is set already. Idempotent. */
    public static void applyLimits() {
        setDefault("sun.net.httpserver.maxReqTime", "5");
        setDefault("sun.net.httpserver.clockTick", "1000");
        setDefault("jdk.httpserver.maxConnections", "256");
        setDefault("sun.net.httpserver.maxReqHeaderSize", "16384");
    }

    private static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /**
     * Starts {@code server} with one virtual thread per request: the server reads a request on its
     * executor's thread, blocking, so a bounded pool is held by a few clients that send half a
     * request and wait (SPEC §5). The dispatcher thread inherits "daemon" from the thread that
     * starts it: started from the pool (virtual threads are daemons), it never keeps the JVM alive.
     *
     * @param threadPrefix names the request threads, e.g. {@code aegis-admin-}
     * @param what         names the server in errors, e.g. {@code admin API}
     */
    public static void start(HttpServer server, String threadPrefix, String what) throws IOException {
        ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(threadPrefix, 0).factory());
        server.setExecutor(pool);
        try {
            pool.submit(server::start).get();
        } catch (ExecutionException e) {
            pool.shutdownNow();
            throw new IOException("cannot start " + what + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.shutdownNow();
            throw new IOException("interrupted while starting " + what, e);
        }
    }

    /** Stops a server started by {@link #start} at once, and its request threads. */
    public static void stop(HttpServer server) {
        server.stop(0);
        if (server.getExecutor() instanceof ExecutorService pool) {
            pool.shutdownNow();
        }
    }
}
