package dev.aegis.udp;

import dev.aegis.traffic.TokenBucket;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a {@link UdpListener} needs from the configuration. Immutable; a reload hands the listener
 * a new instance through {@link UdpListener#reconfigure(UdpSettings)}, which applies to new
 * sessions at once and to the idle expiry of every session from the next sweep on.
 *
 * @param sessionTimeout {@code proxy.traffic.timeout.udp_session}: a session with no datagram in
 *                       either direction for this long is ended (default 30s); must be positive
 * @param maxSessions    {@code proxy.traffic.udp_max_sessions}: live sessions at once; a datagram
 *                       that would open one more is dropped and counted ({@code max_sessions});
 *                       0 = unlimited
 * @param accessLog      {@code logging.access_log}: one access line per ended session
 * @param admission      asked before a new session opens (rate limiting); {@link UdpAdmission#ADMIT_ALL}
 *                       when no limit is configured
 * @param packetBuckets  makes each new session's {@code per_connection.packets_per_second} bucket;
 *                       a datagram from the client that finds it empty is dropped and counted
 */
public record UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission,
        Supplier<TokenBucket> packetBuckets) {

    public UdpSettings {
        Objects.requireNonNull(sessionTimeout, "sessionTimeout");
        Objects.requireNonNull(admission, "admission");
        Objects.requireNonNull(packetBuckets, "packetBuckets");
        if (sessionTimeout.isNegative() || sessionTimeout.isZero()) {
            throw new IllegalArgumentException("sessionTimeout must be positive: " + sessionTimeout);
        }
        if (maxSessions < 0) {
            throw new IllegalArgumentException("maxSessions must be 0 (unlimited) or positive: " + maxSessions);
        }
    }

    /** Settings without a packet rate limit. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog, UdpAdmission admission) {
        this(sessionTimeout, maxSessions, accessLog, admission, () -> TokenBucket.UNLIMITED);
    }

    /** Settings without any rate limit. */
    public UdpSettings(Duration sessionTimeout, int maxSessions, boolean accessLog) {
        this(sessionTimeout, maxSessions, accessLog, UdpAdmission.ADMIT_ALL);
    }
}
