package dev.aegis.udp;

/**
 * A snapshot of one UDP listener's counters for metrics and the admin API. Every counter is
 * cumulative since the listener started, except {@code activeSessions}. "From clients" counts
 * datagrams received on the listen address; "to clients" counts replies sent back from it.
 *
 * @param activeSessions     sessions alive now
 * @param sessionsCreated    sessions opened
 * @param sessionsExpired    sessions ended because they were idle for {@code udp_session}
 * @param sessionsEnded      sessions ended for any reason (idle, backend removed, unhealthy or
 *                           failing, {@code udp.responses} replies relayed, listener closed);
 *                           includes {@code sessionsExpired}
 * @param droppedMaxSessions datagrams dropped because they would have opened a session beyond
 *                           {@code udp_max_sessions}
 * @param droppedNoBackend   datagrams dropped because no backend was available for a new session
 * @param droppedRateLimited datagrams dropped because the admission hook (rate limit) refused a new session
 * @param droppedDraining    datagrams dropped because the listener is draining and takes no new session
 * @param datagramsUnsent    datagrams of live sessions that could not be passed on: a full socket
 *                           send buffer or a send error
 * @param droppedPacketRate  datagrams dropped because their session was over {@code per_connection.packets_per_second}
 * @param droppedLocalError  datagrams dropped because Aegis itself could not open a socket for them
 *                           (typically no file descriptor left); not counted against any backend
 * @param packetsFromClients datagrams received from clients
 * @param bytesFromClients   payload bytes received from clients
 * @param packetsToClients   replies sent to clients
 * @param bytesToClients     payload bytes sent to clients
 * @param droppedBadProxyHeader datagrams from {@code accept_from} senders dropped because they did
 *                           not start with a valid v2 PROXY header
 */
public record UdpStats(
        int activeSessions,
        long sessionsCreated,
        long sessionsExpired,
        long sessionsEnded,
        long droppedMaxSessions,
        long droppedNoBackend,
        long droppedRateLimited,
        long droppedDraining,
        long droppedPacketRate,
        long droppedLocalError,
        long datagramsUnsent,
        long packetsFromClients,
        long bytesFromClients,
        long packetsToClients,
        long bytesToClients,
        long droppedBadProxyHeader) {
}
