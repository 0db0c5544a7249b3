package dev.aegis.udp;

/** Why a UDP session ended: logged as {@code reason=} in its access line. */
enum EndReason {
    /** No datagram either way for {@code udp_session}. */
    IDLE_TIMEOUT("idle_timeout"),
    /** Its backend left the pool (reload or admin API) and is draining. */
    BACKEND_REMOVED("backend_removed"),
    /** Its backend failed its health check; the client's next datagram picks a healthy one. */
    BACKEND_UNHEALTHY("backend_unhealthy"),
    /** The connected backend socket reported an error (ICMP port unreachable and the like). */
    BACKEND_ERROR("backend_error"),
    /** As many replies came back as {@code udp.responses} allows (a DNS answer): the exchange is over. */
    RESPONSES("responses"),
    /** The listener was closed (shutdown, or its address changed at reload). */
    LISTENER_CLOSED("listener_closed");

    private final String label;

    EndReason(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
