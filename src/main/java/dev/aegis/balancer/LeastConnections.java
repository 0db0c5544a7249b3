package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A new connection goes to the eligible backend with the fewest connections open now; among
 * equally loaded backends the picks go round robin.
 *
 * <p>Two passes over the backends: the first finds the lowest load and how many backends share
 * it, the second takes the k-th of those, k turning with an atomic counter. (Only rotating the
 * scan start would favour the tied backend that follows a busier one.) Connection counts move
 * while we scan; if the second pass no longer finds a k-th tied backend, the first one found in
 * the first pass is taken: it was the least loaded a moment ago, which is all anyone can know.
 *
 * <p>Slow start: the load compared is {@code (open + 1) / warmth}, the backend's
 * {@link Backend#warmth warmth} as a divisor (Envoy's least request does the same with its
 * effective weight). The {@code + 1} is the connection about to be placed, and it is what makes a
 * warming backend wait its turn even when every backend has nothing open. Warm backends all have
 * the same divisor, so among them the order is plain {@code open} as before; configured weights
 * play no part, as without slow start. Loads are compared by cross-multiplying, no division.
 */
final class LeastConnections implements Balancer {

    private final Backend[] backends;
    private final AtomicLong ties = new AtomicLong();
    /** {@code load_balancing.slow_start} in nanoseconds; 0 = off (every warmth is full). */
    private final long slowStartNanos;

    LeastConnections(List<Backend> backends) {
        this(backends, 0);
    }

    LeastConnections(List<Backend> backends, long slowStartNanos) {
        this.backends = backends.toArray(new Backend[0]);
        this.slowStartNanos = slowStartNanos;
    }

    @Override
    public Backend select(int clientHash, Tried tried, boolean ignoreHealth) {
        // the least load so far is leastLoad / leastWarmth
        long leastLoad = 0;
        long leastWarmth = 1;
        int tiedCount = 0;
        Backend first = null;
        for (Backend b : backends) {
            if (!b.isEligible(ignoreHealth) || tried.contains(b)) {
                continue;
            }
            long load = b.activeConnections() + 1L;
            long warmth = b.warmth(slowStartNanos);
            // load / warmth against leastLoad / leastWarmth (at most ~1e6 * 1000: no overflow)
            long mine = load * leastWarmth;
            long theirs = leastLoad * warmth;
            if (first == null || mine < theirs) {
                leastLoad = load;
                leastWarmth = warmth;
                tiedCount = 1;
                first = b;
            } else if (mine == theirs) {
                tiedCount++;
            }
        }
        if (tiedCount <= 1) {
            return first; // null when none is eligible
        }
        int k = (int) Long.remainderUnsigned(ties.getAndIncrement(), tiedCount);
        for (Backend b : backends) {
            if (b.isEligible(ignoreHealth) && !tried.contains(b)
                    && (b.activeConnections() + 1L) * leastWarmth == leastLoad * b.warmth(slowStartNanos)
                    && k-- == 0) {
                return b;
            }
        }
        return first;
    }
}
