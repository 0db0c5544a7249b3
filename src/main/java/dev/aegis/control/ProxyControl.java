package dev.aegis.control;

import dev.aegis.config.BackendConfig;

/**
 * What the admin API may ask of the running proxy: the lifecycle operations, nothing else.
 * Implemented by {@code Aegis}; the admin package sees the core through this interface and
 * {@link ProxyStatus}, never through the core's classes.
 */
public interface ProxyControl {

    /** Re-reads the config file and applies it as a whole, or changes nothing. */
    ReloadResult reload();

    /**
     * Stops (true) or resumes (false) accepting new connections and sessions.
     *
     * @param service one service, or null for every service
     * @return false when there is no such service
     */
    boolean setDraining(String service, boolean draining);

    /**
     * Adds a backend to one of a service's pools until the next reload.
     *
     * @param pool {@code tcp}, {@code udp}, or a TLS route's pool ({@code tls:<first server name>})
     * @return false when the pool already has that address, or the service or pool does not exist
     */
    boolean addBackend(String service, String pool, BackendConfig backend);

    /**
     * Removes a backend; its open connections finish.
     *
     * @param pool as for {@link #addBackend}
     * @return false if the service or its pool has no such backend
     */
    boolean removeBackend(String service, String pool, String id);

    /** The outcome of a reload: the new generation, or every error with nothing changed. */
    record ReloadResult(boolean ok, long generation, java.util.List<String> errors, java.util.List<String> warnings) {
        public ReloadResult {
            errors = java.util.List.copyOf(errors);
            warnings = java.util.List.copyOf(warnings);
        }
    }
}
