package dev.aegis.health;

import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * One kind of active check. A probe is a stateless value (equal probes are interchangeable, which
 * is how the checker sees that a reload left a check unchanged); {@link #check} runs one attempt on
 * the calling (virtual) thread and never takes longer than its timeout, give or take scheduling.
 */
sealed interface HealthProbe permits TcpProbe, HttpProbe, UdpProbe {

    /**
     * Runs one check.
     *
     * @param name    the backend's address as configured: Host header, TLS server name
     * @param target  the resolved address to contact
     * @param timeout the most the whole check may take
     * @throws IOException the check failed; the exception type and message say why
     */
    void check(HostPort name, InetSocketAddress target, Duration timeout) throws IOException;

    /**
     * The probe a {@code health_check} block asks for: with a {@code path}, an HTTP(S) GET (for
     * either pool: the path is an explicit request for HTTP); without, a TCP connect, or for the
     * UDP pool a datagram that must get a reply.
     */
    static HealthProbe of(HealthCheckConfig config, boolean udp) {
        if (config.path().isPresent()) {
            return new HttpProbe(config.path().get(), config.scheme() == HealthCheckConfig.Scheme.HTTPS);
        }
        return udp ? new UdpProbe() : new TcpProbe();
    }

    /** Milliseconds left until {@code deadlineNanos}, at least 1 (0 would mean "wait forever"). */
    static int remainingMillis(long deadlineNanos) throws SocketTimeoutException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("health check timed out");
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000));
    }

    /** The deadline of a check that starts now. */
    static long deadline(Duration timeout) {
        return System.nanoTime() + Math.max(1_000_000, timeout.toNanos());
    }
}
