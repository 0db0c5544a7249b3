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
 */
final class RoundRobin implements Balancer {

    private final Backend[] backends;
    private final AtomicLong next = new AtomicLong();

    RoundRobin(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
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
            int offset = 0;
            for (; offset < n; offset++) {
                int i = start + offset;
                Backend b = backends[i < n ? i : i - n];
                if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                    chosen = b;
                    break;
                }
            }
            if (chosen == null) {
                return null; // leave the counter alone: nothing was handed out
            }
            if (next.compareAndSet(position, position + offset + 1)) {
                return chosen;
            }
            // another pick took this position meanwhile: look again from the new one
        }
    }
}
