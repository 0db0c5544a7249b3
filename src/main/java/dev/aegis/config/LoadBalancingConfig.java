package dev.aegis.config;

/**
 * {@code proxy.load_balancing}.
 *
 * @param algorithm       default round_robin
 * @param sessionAffinity true: every client IP sticks to one backend (consistent hash on the
 *                        client IP), whatever the algorithm; default false
 */
public record LoadBalancingConfig(Algorithm algorithm, boolean sessionAffinity) {

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
