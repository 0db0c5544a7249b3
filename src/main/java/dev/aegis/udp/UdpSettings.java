package dev.aegis.udp;

import dev.aegis.config.Cidrs;
import dev.aegis.traffic.TokenBucket;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a {@link UdpListener} needs from the configuration. Immutable; a reload hands the listener
 * a new instance through {@link UdpListener#reconfigure(UdpSettings)}, which applies to new
 * sessions at once and to the idle expiry of every session from the next sweep on. A session keeps
 * the {@code responses} and {@code perPacket} it was opened with.
 *
 * @param sessionTimeout {@code udp.session_timeout} ({@code proxy.traffic.timeout.udp_session}): a
 *                       session with no datagram in either direction for this long is ended
 *                       (default 30s); must be positive
 * @param maxSessions    {@code proxy.traffic.udp_max_sessions}: live sessions at once; a datagram
 *                       that would open one more is dropped and counted ({@code max_sessions});
 *                       0 = unlimited
 * @param accessLog      {@code logging.access_log}: one access line per ended session
 * @param admission      asked before a new session opens (rate limiting); {@link UdpAdmission#ADMIT_ALL}
 *                       when no limit is configured
 * @param packetBuckets  makes each new session's {@code per_connection.packets_per_second} bucket;
 *                       a datagram from the client that finds it empty is dropped and counted
 * @param responses      {@code udp.responses} (nginx's {@code proxy_responses}): a session ends
 *                       ({@code reason=responses}) as soon as this many datagrams came back from
 *                       the backend(s) and were relayed to the client; 0 = no limit (default).
 *                       {@code 1} suits DNS: a query's session does not linger for
 *                       {@code sessionTimeout}
 * @param perPacket      {@code udp.per_packet}: every datagram from a client is balanced on its
 *                       own (syslog, statsd) instead of the client sticking to one backend; every
 *                       reply still goes back to the client that sent the request. Default false
 * @param service        the name of the service the listener belongs to (SPEC §9): written as
 *                       {@code service=} in access lines and the listener's log lines;
 *                       {@value #DEFAULT_SERVICE} for a {@code proxy:} file
 * @param proxyHeader    {@code proxy_protocol.send: v2}: every datagram to a backend starts with a
 *                       v2 {@code DGRAM} header naming the client and the listener's address (v1 has
 *                       no datagram form; the loader refuses it for a service with UDP listeners)
 * @param acceptFrom     {@code proxy_protocol.accept_from}: every datagram from these senders must
 *                       start with a v2 header (else it is dropped and counted); the header's
 *                       source is the client, replies go to the sender. {@link Cidrs#NONE}: off
 */
public record UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission,
        Supplier<TokenBucket> packetBuckets, int responses, boolean perPacket, String service,
        boolean proxyHeader, Cidrs acceptFrom) {

    /** The service name of a {@code proxy:} file. */
    public static final String DEFAULT_SERVICE = "default";

    public UdpSettings {
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(packetBuckets, "packetBuckets");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(acceptFrom, "acceptFrom");
        if (sessionTimeout.isNegative() || sessionTimeout.isZero()) {
            throw new IllegalArgumentException("sessionTimeout must be positive: " + sessionTimeout);
        }
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be 0 (unlimited) or positive: " + maxSessions);
        }
        if (responses < 0) {
            throw new IllegalArgumentException("responses must be 0 (no limit) or positive: " + responses);
        }
    }

    /** Settings without {@code accept_from}. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission,
            Supplier<TokenBucket> packetBuckets, int responses, boolean perPacket, String service,
            boolean proxyHeader) {
        this(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, responses, perPacket, service,
                proxyHeader, Cidrs.NONE);
    }

    /** Sticky sessions without a response limit, for the service named {@value #DEFAULT_SERVICE}. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission,
            Supplier<TokenBucket> packetBuckets) {
        this(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, 0, false, DEFAULT_SERVICE, false);
    }

    /** Settings without a packet rate limit. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission) {
        this(sessionTimeout, maxSessions, accessLog, admission, () -> TokenBucket.UNLIMITED);
    }

    /** Settings without any rate limit. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog) {
        this(sessionTimeout, maxSessions, accessLog, UdpAdmission.ADMIT_ALL);
    }

    /** These settings with another session mode: {@link #responses()} and {@link #perPacket()}. */
    public UdpSettings withSessionMode(int responses, boolean perPacket) {
        return new UdpSettings(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, responses, perPacket,
                service, proxyHeader, acceptFrom);
    }

    /** These settings for the service named {@code name}. */
    public UdpSettings withService(String name) {
        return new UdpSettings(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, responses, perPacket,
                name, proxyHeader, acceptFrom);
    }

    /** These settings with the v2 PROXY header on every datagram to a backend, or without. */
    public UdpSettings withProxyHeader(boolean on) {
        return new UdpSettings(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, responses, perPacket,
                service, on, acceptFrom);
    }

    /** These settings with {@code accept_from} senders (their datagrams must carry a v2 header). */
    public UdpSettings withAcceptFrom(Cidrs senders) {
        return new UdpSettings(sessionTimeout, maxSessions, accessLog, admission, packetBuckets, responses, perPacket,
                service, proxyHeader, senders);
    }
}
