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
 */
public record TimeoutConfig(Duration connect, Duration idle, Duration read, Duration udpSession) {
}
