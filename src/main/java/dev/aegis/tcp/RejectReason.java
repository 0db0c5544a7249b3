package dev.aegis.tcp;

/** Why a new connection was closed at once without reaching a backend (SPEC §6). */
public enum RejectReason {
    RATE_LIMITED("rate_limited"),
    NO_BACKEND("no_backend"),
    MAX_CONNECTIONS("max_connections"),
    DRAINING("draining"),
    /** {@code tls_routes}: the connection matched no route and the service's default pool is empty. */
    NO_ROUTE("no_route"),
    /** {@code accept_from}: the PROXY header was missing, malformed, truncated or late. */
    BAD_PROXY_HEADER("bad_proxy_header"),
    /** {@code queue}: every eligible backend was full and the service's queue was full too. */
    QUEUE_FULL("queue_full"),
    /** {@code queue}: the connection waited {@code queue.timeout} for a backend slot in vain. */
    QUEUE_TIMEOUT("queue_timeout");

    private final String label;

    RejectReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
