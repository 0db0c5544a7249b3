package dev.aegis.config;

/**
 * A service's {@code udp:} block (SPEC §9). Its {@code session_timeout} is kept as
 * {@link TimeoutConfig#udpSession()}, of which it is the per-service name.
 *
 * @param responses a session ends once this many datagrams came back from its backend
 *                  (nginx's {@code proxy_responses}: 1 for DNS); 0 = no limit (default)
 * @param perPacket every datagram is balanced on its own (syslog, statsd); replies still go back
 *                  to the client that sent the request
 */
public record UdpModeConfig(int responses, boolean perPacket) {

    public static final UdpModeConfig DEFAULT = new UdpModeConfig(0, false);
}
