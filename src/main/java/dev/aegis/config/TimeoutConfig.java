package dev.aegis.config;

import java.time.Duration;

/**
 * {@code proxy.traffic.timeout}.
 *
 * @param connect    backend connect, default 5s; on expiry the next backend is tried
 * @param idle       TCP: no byte either way for this long closes the connection, default 60s
 * @param read       TCP: the client's latest bytes waited this long with no byte back from the
 *                   backend (a hung backend, counted as a failure), default 30s
 * @param udpSession UDP: a session without packets for this long is forgotten, default 30s
 * @param clientHello TCP with {@code tls_routes}: how long the client's first bytes are awaited
 *                   before the connection goes to the default pool with what came, default 3s
 * @param maxLifetime TCP: a connection older than this is ended (FIN both ways, between two
 *                   chunks), so that long-lived clients spread over new backends; default 0 = never
 */
public record TimeoutConfig(Duration connect, Duration idle, Duration read, Duration udpSession, Duration clientHello,
        Duration maxLifetime) {

    /** The default of {@link #clientHello}. */
    public static final Duration DEFAULT_CLIENT_HELLO = Duration.ofSeconds(3);

    /** Timeouts without {@code max_lifetime}. */
    public TimeoutConfig(Duration connect, Duration idle, Duration read, Duration udpSession, Duration clientHello) {
        this(connect, idle, read, udpSession, clientHello, Duration.ZERO);
    }

    /** Timeouts with the default {@code client_hello}. */
    public TimeoutConfig(Duration connect, Duration idle, Duration read, Duration udpSession) {
        this(connect, idle, read, udpSession, DEFAULT_CLIENT_HELLO);
    }
}
