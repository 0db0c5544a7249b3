package dev.aegis.config;

import java.time.Duration;
import java.util.Optional;

/**
 * {@code health_check} of a backend.
 *
 * @param interval           time between the starts of two checks, default 5s
 * @param timeout            how long one check may take, default 2s
 * @param path               present: HTTP GET of this path (2xx/3xx healthy); empty: a TCP connect
 *                           (for the UDP pool: a datagram that must get a reply)
 * @param scheme             http (default) or https (TLS verified by the JDK trust store)
 * @param healthyThreshold   consecutive passing checks to become healthy, default 2
 * @param unhealthyThreshold consecutive failing checks to become unhealthy, default 3
 */
public record HealthCheckConfig(
        Duration interval,
        Duration timeout,
        Optional<String> path,
        Scheme scheme,
        int healthyThreshold,
        int unhealthyThreshold) {

    public enum Scheme { HTTP, HTTPS }
}
