package dev.aegis.config;

import java.time.Duration;

/**
 * {@code proxy.circuit_breaker}.
 *
 * @param errorThreshold consecutive failures (connect errors and timeouts, read timeouts) that open
 *                       the circuit, default 5
 * @param timeout        how long the circuit stays open before one trial connection, default 30s
 */
public record CircuitBreakerConfig(int errorThreshold, Duration timeout) {
}
