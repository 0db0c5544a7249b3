package dev.aegis.config;

/**
 * {@code proxy.traffic.rate_limit}. Every rate of 0 means "no limit", which is the default.
 *
 * @param requestsPerSecond global new TCP connections + new UDP sessions per second
 * @param burst             tokens the global bucket holds (default: the rate, at least 1)
 * @param perClient         the same, per client IP
 * @param perConnection     bandwidth of one TCP connection (bytes/s each way) and packets/s of one UDP session
 */
public record RateLimitConfig(
        double requestsPerSecond, long burst, PerClient perClient, PerConnection perConnection) {

    /** {@code per_client}: a token bucket per source IP. */
    public record PerClient(double requestsPerSecond, long burst) {
    }

    /** {@code per_connection}: bytes/s per TCP direction and packets/s per UDP session. */
    public record PerConnection(long bytesPerSecond, long packetsPerSecond) {
    }
}
