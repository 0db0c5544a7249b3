package dev.aegis.config;

/**
 * {@code proxy.traffic}.
 *
 * @param rateLimit      token buckets for new connections/sessions and bandwidth
 * @param timeout        connect, idle, read and UDP session timeouts
 * @param retries        more backends tried after a failed connect, default 2
 * @param maxConnections open TCP connections for the whole proxy, 0 = unlimited (default)
 * @param udpMaxSessions live UDP sessions at once, default 100000
 */
public record TrafficConfig(
        RateLimitConfig rateLimit, TimeoutConfig timeout, int retries, int maxConnections, int udpMaxSessions) {
}
