package dev.aegis.backend;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * One generation of a pool: the backends in config order and the selector (a balancer from
 * {@code dev.aegis.balancer}) built over exactly those backends. Its membership never changes; a
 * reload or a runtime add/remove builds the next generation.
 *
 * <p><b>Panic mode</b> ({@code load_balancing.panic_threshold}, Envoy's meaning). With fewer than
 * {@code panicThreshold} percent of the set's backends healthy, the health checks' verdict is set
 * aside and every backend that is otherwise usable is eligible again, picked by the same algorithm:
 * draining, weight-0, circuit-open and full backends are still skipped, because those verdicts come
 * from the traffic itself (or the operator), not from a check that may be wrong as a whole. At 0
 * (the default) panic mode never starts: with no healthy backend the client is rejected
 * ({@code no_backend}), as SPEC §4 says.
 */
public final class BackendSet {

    private final List<Backend> backends;
    private final Selector selector;
    private final int panicThreshold;
    private final LongAdder panicPicks;

    /** A set with panic mode at {@code panicThreshold} percent (0 = never) and its own panic count. */
    public BackendSet(List<Backend> backends, Selector selector, int panicThreshold) {
        this(backends, selector, panicThreshold, new LongAdder());
    }

    BackendSet(List<Backend> backends, Selector selector, int panicThreshold, LongAdder panicPicks) {
        this.backends = List.copyOf(backends);
        this.selector = selector;
        this.panicThreshold = panicThreshold;
        this.panicPicks = panicPicks;
    }

    public List<Backend> backends() {
        return backends;
    }

    /**
     * Picks an eligible backend not yet tried, or null. In panic mode an unhealthy backend is
     * eligible too. One pass over the backends to count the healthy ones, only when panic mode is
     * configured; no lock, no allocation.
     */
    public Backend select(int clientHash, Tried tried) {
        boolean panic = inPanic();
        Backend b = selector.select(clientHash, tried, panic);
        if (panic && b != null && !b.isHealthy()) {
            panicPicks.increment();
        }
        return b;
    }

    /** Fewer than {@code panicThreshold} percent of the backends are healthy (never when it is 0). */
    public boolean inPanic() {
        if (panicThreshold == 0 || backends.isEmpty()) {
            return false;
        }
        int healthy = 0;
        for (Backend b : backends) {
            if (b.isHealthy()) {
                healthy++;
            }
        }
        return healthy * 100 < panicThreshold * backends.size();
    }

    /** Room for a new connection in a set, as a connection queue sees it. */
    public enum Capacity {
        /** An eligible backend has a free slot. */
        FREE,
        /** Every eligible backend is at its {@code max_connections}: worth waiting for a slot. */
        FULL,
        /** No backend is eligible even ignoring {@code max_connections}: waiting would not help. */
        NONE
    }

    /**
     * Whether a slot is free, every eligible backend is full, or nothing is eligible at all. One
     * pass over the backends (two in panic mode); no lock, no allocation. Asked only by
     * connections that found no backend, or that would queue behind others.
     */
    public Capacity capacity() {
        boolean panic = inPanic();
        boolean full = false;
        for (Backend b : backends) {
            if (b.isEligibleIgnoringCapacity(panic)) {
                if (b.hasFreeSlot()) {
                    return Capacity.FREE;
                }
                full = true;
            }
        }
        return full ? Capacity.FULL : Capacity.NONE;
    }

    /**
     * Clients sent to a backend that its health check calls down (which only panic mode does),
     * since the pool was created.
     */
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
