package dev.aegis.tcp;

/**
 * Why a TCP connection ended, as logged in the access log and counted in metrics. The first
 * abnormal reason recorded for a connection wins: a timeout that closes the sockets is not later
 * overwritten by the "socket closed" error that the closing causes in the other pipe. The two
 * normal ends (which side sent FIN first) apply only when nothing abnormal happened.
 */
public enum CloseReason {
    /** Both sides finished normally; the client sent FIN first. */
    CLIENT_CLOSED("client_closed"),
    /** Both sides finished normally; the backend sent FIN first. */
    BACKEND_CLOSED("backend_closed"),
    CLIENT_RESET("client_reset"),
    BACKEND_RESET("backend_reset"),
    IDLE_TIMEOUT("idle_timeout"),
    /** The backend did not answer the client's bytes within timeout.read: counts as a backend failure. */
    READ_TIMEOUT("read_timeout"),
    /** Every eligible backend was tried and refused or timed out. */
    CONNECT_FAILED("connect_failed"),
    /** Aegis itself could not go on, typically out of file descriptors; not counted against a backend. */
    LOCAL_ERROR("local_error"),
    /**
     * {@code traffic.timeout.max_lifetime}: the connection was older than that, and both
     * directions were ended with a FIN between two chunks.
     */
    MAX_LIFETIME("max_lifetime"),
    /** Its backend was removed (admin API, reload, discovery) under {@code backend_removal: close}: reset. */
    BACKEND_REMOVED("backend_removed"),
    /** Closed by graceful shutdown after the drain timeout. */
    SHUTDOWN("shutdown"),
    /** Unexpected error: a bug, logged with its stack trace. */
    ERROR("error");

    private final String label;

    CloseReason(String label) {
        this.label = label;
    }

    /** The snake_case name used in logs and metric labels. */
    public String label() {
        return label;
    }
}
