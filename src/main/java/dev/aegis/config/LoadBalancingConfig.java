package dev.aegis.config;

import java.time.Duration;
import java.util.Objects;

/**
 * {@code proxy.load_balancing}.
 *
 * @param algorithm       default round_robin
 * @param sessionAffinity true: every client IP sticks to one backend (consistent hash on the
 *                        client IP), whatever the algorithm; default false
 * @param panicThreshold  percent, 0..100 (Envoy's meaning): with fewer than this share of a
 *                        pool's backends healthy, health is ignored when choosing; default 0 = never
 * @param slowStart       how long a backend that is added or turns healthy takes to ramp its
 *                        effective weight from 10 % to 100 %; default 0 = at once
 */
public record LoadBalancingConfig(Algorithm algorithm, boolean sessionAffinity, int panicThreshold, Duration slowStart) {

    public LoadBalancingConfig {
        if (panicThreshold < 0 || panicThreshold > 100) {
            throw new IllegalArgumentException("panic_threshold must be 0..100, got " + panicThreshold);
        }
        Objects.requireNonNull(slowStart, "slowStart");
        if (slowStart.isNegative()) {
            throw new IllegalArgumentException("slow_start must not be negative, got " + slowStart);
        }
    }

    /** Without slow start (the default). */
    public LoadBalancingConfig(Algorithm algorithm, boolean sessionAffinity, int panicThreshold) {
        this(algorithm, sessionAffinity, panicThreshold, Duration.ZERO);
    }

    /** Without panic mode and slow start (the defaults). */
    public LoadBalancingConfig(Algorithm algorithm, boolean sessionAffinity) {
        this(algorithm, sessionAffinity, 0);
    }

    /** The balancing algorithms; each has its YAML name (and the original's alias for weighted). */
    public enum Algorithm {
        ROUND_ROBIN("round_robin"),
        WEIGHTED("weighted"),
        LEAST_CONNECTIONS("least_connections"),
        CONSISTENT_HASH("consistent_hash");

        private final String yamlName;

        Algorithm(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }
    }
}
