package dev.aegis.tcp;

/**
 * Why a TCP connection ended, as logged in the access log and counted in metrics. The first
 * abnormal reason recorded for a connection wins: a timeout that closes the sockets is not later
 * overwritten by the "socket closed" error that the closing causes in the other pipe. The two
 * normal ends (which side sent FIN first) apply only when nothing abnormal happened.
 */
public enum CloseReason {
    /** Both sides finished normally; the client sent FIN first. */
    CLIENT_CLOSED("client_closed", false),
    /** Both sides finished normally; the backend sent FIN first. */
    BACKEND_CLOSED("backend_closed", false),
    CLIENT_RESET("client_reset", false),
    BACKEND_RESET("backend_reset", false),
    IDLE_TIMEOUT("idle_timeout", false),
    /** The backend did not answer the client's bytes within timeout.read: counts as a backend failure. */
    READ_TIMEOUT("read_timeout", true),
    /** Every eligible backend was tried and refused or timed out. */
    CONNECT_FAILED("connect_failed", true),
    /** Aegis itself could not go on, typically out of file descriptors; not counted against a backend. */
    LOCAL_ERROR("local_error", true),
    /** Closed by graceful shutdown after the drain timeout. */
    SHUTDOWN("shutdown", false),
    /** Unexpected error: a bug, logged with its stack trace. */
    ERROR("error", true);

    private final String label;
    private final boolean failure;

    CloseReason(String label, boolean failure) {
        this.label = label;
        this.failure = failure;
    }

    /** The snake_case name used in logs and metric labels. */
    public String label() {
        return label;
    }

    /** True for reasons an operator should look into (and that count against a backend). */
    public boolean failure() {
        return failure;
    }
}
