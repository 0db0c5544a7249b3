package dev.aegis.backend;

import dev.aegis.balancer.Balancer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One generation of a pool: the backends in config order and the balancer built over exactly
 * those backends. Its membership never changes; a reload or a runtime add/remove builds the next
 * generation.
 *
 * <p><b>Panic mode.</b> When the health checks call every backend of the pool unhealthy, Aegis
 * tries them anyway (round robin, still skipping draining, circuit-open and full backends)
 * instead of refusing every client. Health checks can be wrong as a whole (a broken {@code /health}
 * route, a check port firewalled) while traffic would still be served; a backend that is really
 * dead costs a refused connect, which the retry and the circuit breaker absorb. This is Envoy's
 * panic threshold at its most conservative (0 healthy); HAProxy instead fails closed.
 */
public final class BackendSet {

    private final List<Backend> backends;
    private final Balancer balancer;
    private final AtomicInteger panicCursor = new AtomicInteger();
    private final LongAdder panicPicks;

    public BackendSet(List<Backend> backends, Balancer balancer) {
        this(backends, balancer, new LongAdder());
    }

    BackendSet(List<Backend> backends, Balancer balancer, LongAdder panicPicks) {
        this.backends = List.copyOf(backends);
        this.balancer = balancer;
        this.panicPicks = panicPicks;
    }

    public List<Backend> backends() {
        return backends;
    }

    public Balancer balancer() {
        return balancer;
    }

    /** Picks an available backend not yet tried, or null; in panic mode an unhealthy one. */
    public Backend select(int clientHash, Tried tried) {
        Backend b = balancer.select(clientHash, tried);
        if (b == null && noneHealthy()) {
            b = panicSelect(tried);
        }
        return b;
    }

    private boolean noneHealthy() {
        for (Backend b : backends) {
            if (b.isHealthy()) {
                return false;
            }
        }
        return !backends.isEmpty();
    }

    private Backend panicSelect(Tried tried) {
        int n = backends.size();
        int start = Math.floorMod(panicCursor.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            Backend b = backends.get((start + i) % n);
            if (b.isUsableIgnoringHealth() && !tried.contains(b)) {
                panicPicks.increment();
                return b;
            }
        }
        return null;
    }

    /** Picks made in panic mode since the pool was created. */
    public long panicPicks() {
        return panicPicks.sum();
    }

    public Backend find(String id) {
        for (Backend b : backends) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        return null;
    }
}
