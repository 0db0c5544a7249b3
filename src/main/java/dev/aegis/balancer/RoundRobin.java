package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each new connection goes to the next eligible backend in config order.
 *
 * <p>A pick claims the counter positions it looked at with one compare-and-set, skipped ones
 * included. So when {@code b} of {@code a, b, c} is down the rotation is {@code a c a c}, not
 * {@code a c c a c c} as it would be if a skipped position were handed to the next backend
 * without being consumed. The counter is a long: it never wraps in practice, so the rotation
 * stays exact.
 *
 * <p>Slow start: a warming backend {@link Backend#takesTurn takes} only its warmth's share of its
 * turns; a turn it declines is consumed like a skipped one, so with effective weights {@code f}
 * for it and 1 for the others it gets {@code f / (n - 1 + f)} of the picks. When every eligible
 * backend declines, the first of them is taken anyway: slow start never turns a client away.
 */
final class RoundRobin implements Balancer {

    private final Backend[] backends;
    private final AtomicLong next = new AtomicLong();
    /** {@code load_balancing.slow_start} in nanoseconds; 0 = off. */
    private final long slowStartNanos;

    RoundRobin(List<Backend> backends) {
        this(backends, 0);
    }

    RoundRobin(List<Backend> backends, long slowStartNanos) {
        this.backends = backends.toArray(new Backend[0]);
        this.slowStartNanos = slowStartNanos;
    }

    @Override
    public Backend select(int clientHash, Tried tried, boolean ignoreHealth) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        while (true) {
            long position = next.get();
            int start = (int) Long.remainderUnsigned(position, n);
            Backend chosen = null;
            Backend declined = null;
            int declinedOffset = 0;
            int offset = 0;
            for (; offset < n; offset++) {
                int i = start + offset;
                Backend b = backends[i < n ? i : i - n];
                if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                    if (slowStartNanos == 0 || b.takesTurn(position + offset, slowStartNanos)) {
                        chosen = b;
                        break;
                    }
                    if (declined == null) {
                        declined = b;
                        declinedOffset = offset;
                    }
                }
            }
            if (chosen == null) {
                if (declined == null) {
                    return null; // leave the counter alone: nothing was handed out
                }
                chosen = declined; // only warming backends are eligible: one of them it is
                offset = declinedOffset;
            }
            if (next.compareAndSet(position, position + offset + 1)) {
                return chosen;
            }
            // another pick took this position meanwhile: look again from the new one
        }
    }
}
