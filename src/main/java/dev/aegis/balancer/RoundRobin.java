package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Each new connection goes to the next available backend in config order. */
public final class RoundRobin implements Balancer {

    private final Backend[] backends;
    private final AtomicInteger next = new AtomicInteger();

    RoundRobin(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
    }

    @Override
    public Backend select(int clientHash, Tried tried) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            Backend b = backends[(start + i) % n];
            if (b.isAvailable() && !tried.contains(b)) {
                return b;
            }
        }
        return null;
    }
}
