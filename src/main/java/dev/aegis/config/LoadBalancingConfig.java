package dev.aegis.config;

/**
 * {@code proxy.load_balancing}.
 *
 * @param algorithm       default round_robin
 * @param sessionAffinity true: every client IP sticks to one backend (consistent hash on the
 *                        client IP), whatever the algorithm; default false
 * @param panicThreshold  percent, 0..100 (Envoy's meaning): with fewer than this share of a
 *                        pool's backends healthy, health is ignored when choosing; default 0 = never
 */
public record LoadBalancingConfig(Algorithm algorithm, boolean sessionAffinity, int panicThreshold) {

    public LoadBalancingConfig {
        if (panicThreshold < 0 || panicThreshold > 100) {
            throw new IllegalArgumentException("panic_threshold must be 0..100, got " + panicThreshold);
        }
    }

    /** Without panic mode (the default). */
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
