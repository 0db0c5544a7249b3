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
 */
final class LeastConnections implements Balancer {

    private final Backend[] backends;
    private final AtomicLong ties = new AtomicLong();

    LeastConnections(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
    }

    @Override
    public Backend select(int clientHash, Tried tried, boolean ignoreHealth) {
        int least = Integer.MAX_VALUE;
        int tiedCount = 0;
        Backend first = null;
        for (Backend b : backends) {
            if (!b.isEligible(ignoreHealth) || tried.contains(b)) {
                continue;
            }
            int active = b.activeConnections();
            if (active < least) {
                least = active;
                tiedCount = 1;
                first = b;
            } else if (active == least) {
                tiedCount++;
            }
        }
        if (tiedCount <= 1) {
            return first; // null when none is eligible
        }
        int k = (int) Long.remainderUnsigned(ties.getAndIncrement(), tiedCount);
        for (Backend b : backends) {
            if (b.isEligible(ignoreHealth) && !tried.contains(b) && b.activeConnections() == least && k-- == 0) {
                return b;
            }
        }
        return first;
    }
}
