package dev.aegis.control;

/**
 * The JVM-wide limits of the JDK's HTTP server, which serves both the admin API and the metrics
 * endpoint. The server reads them once, when the first one starts, so {@code AdminServer} and
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
public final class HttpServerLimits {

    private HttpServerLimits() {
    }

    /** Sets each limit unless it is set already. Idempotent. */
    public static void apply() {
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
}
