package dev.aegis.config;

import java.util.Optional;

/**
 * One entry of {@code proxy.backends} or {@code proxy.udp_backends}: parsed input. The live
 * object with counters and health is {@code dev.aegis.backend.Backend}.
 *
 * @param address        where the backend listens; its text form is the backend's identity. Port 0:
 *                       no port was written, and a connection goes to the port the client reached
 * @param weight         0..10000, default 100; 0 = takes no new traffic
 * @param maxConnections open connections allowed at once, 0 = unlimited (default)
 * @param healthCheck    the active check; empty = assumed healthy (only the circuit breaker protects it)
 */
public record BackendConfig(HostPort address, int weight, int maxConnections, Optional<HealthCheckConfig> healthCheck) {

    public static final int DEFAULT_WEIGHT = 100;
    public static final int MAX_WEIGHT = 10_000;

    /** The identity of the backend in the admin API, metrics and logs: the address as written. */
    public String id() {
        if (!portless()) {
            return address.toString();
        }
        return address.host().indexOf(':') >= 0 ? "[" + address.host() + "]" : address.host();
    }

    /** No port in the file: the port the client reached (a service that listens on several ports). */
    public boolean portless() {
        return address.port() == 0;
    }
}
