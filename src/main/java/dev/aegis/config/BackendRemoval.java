package dev.aegis.config;

/**
 * A service's {@code backend_removal:} (SPEC §11): what the open TCP connections of a backend get
 * when it leaves the pool (admin API, reload, discovery).
 */
public enum BackendRemoval {
    /** The default: the backend takes no new connections, its open ones carry on to their end. */
    DRAIN("drain"),
    /** Its open connections are reset at once (SO_LINGER 0 on both sockets). */
    CLOSE("close");

    private final String yamlName;

    BackendRemoval(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
