package dev.aegis.backend;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.LoadBalancingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A named pool of backends ("tcp" or "udp") whose membership changes while connections run.
 * Readers (every new connection) take the current {@link BackendSet} with one volatile read;
 * writers (reload, the admin API) build the next generation under a lock and swap it in.
 * Backend objects are reused across generations when their address stays, so counters, health
 * and open connections carry over a reload. The balancing algorithm comes from outside, as a
 * {@link Selector.Factory} ({@code Balancers::create}), so this package does not depend on
 * {@code dev.aegis.balancer}.
 *
 * <p>Backends that join a running pool (a reload or {@link #add}) start warming
 * ({@code load_balancing.slow_start}, see {@link Backend}); the ones it is built with do not.
 */
public final class BackendPool {

    private final String name;
    /** Shared by every generation, so the count survives reloads. */
    private final LongAdder panicPicks = new LongAdder();
    private final AtomicReference<BackendSet> current;
    /** Serialises writers only; never taken on the connection path. */
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Selector.Factory selectors;
    /** The slow-start clock handed to every backend (tests pass their own). */
    private final LongSupplier clock;
    /**
     * Told about every backend that leaves the pool (reload, admin API, any later remover), after
     * it was marked draining and outside the write lock: the service resets their connections
     * under {@code backend_removal: close}.
     */
    private final Consumer<List<Backend>> removals;
    private LoadBalancingConfig balancing;
    private CircuitBreakerConfig circuitConfig;

    public BackendPool(String name, List<ResolvedBackend> backends,
            LoadBalancingConfig balancing, CircuitBreakerConfig circuitConfig, Selector.Factory selectors) {
        this(name, backends, balancing, circuitConfig, selectors, System::nanoTime, removed -> { });
    }

    /** A pool whose backends' slow start reads {@code clock} (nanoseconds, as {@link System#nanoTime()}). */
    public BackendPool(String name, List<ResolvedBackend> backends, LoadBalancingConfig balancing,
            CircuitBreakerConfig circuitConfig, Selector.Factory selectors, LongSupplier clock) {
        this(name, backends, balancing, circuitConfig, selectors, clock, removed -> { });
    }

    /** @param removals told about the backends that leave the pool, once they are draining */
    public BackendPool(String name, List<ResolvedBackend> backends, LoadBalancingConfig balancing,
            CircuitBreakerConfig circuitConfig, Selector.Factory selectors, Consumer<List<Backend>> removals) {
        this(name, backends, balancing, circuitConfig, selectors, System::nanoTime, removals);
    }

    /**
     * @param clock    the slow-start clock (nanoseconds, as {@link System#nanoTime()})
     * @param removals told about the backends that leave the pool, once they are draining
     */
    public BackendPool(String name, List<ResolvedBackend> backends, LoadBalancingConfig balancing,
            CircuitBreakerConfig circuitConfig, Selector.Factory selectors, LongSupplier clock,
            Consumer<List<Backend>> removals) {
        this.name = name;
        this.clock = clock;
        this.selectors = selectors;
        this.removals = removals;
        this.balancing = balancing;
        this.circuitConfig = circuitConfig;
        List<Backend> live = new ArrayList<>();
        for (ResolvedBackend rb : backends) {
            live.add(new Backend(rb.config(), rb.address(), circuitConfig, clock));
        }
        this.current = new AtomicReference<>(generation(live));
    }

    /** The next generation over {@code backends}, under the current balancing config. */
    private BackendSet generation(List<Backend> backends) {
        return new BackendSet(backends, selectors.create(balancing, backends), balancing.panicThreshold(), panicPicks);
    }

    /** A config entry together with its address resolved at (re)load time. */
    public record ResolvedBackend(BackendConfig config, java.net.InetSocketAddress address) {
    }

    public String name() {
        return name;
    }

    /** The current generation: one volatile read. */
    public BackendSet current() {
        return current.get();
    }

    /**
     * Replaces the membership with a reloaded config. Kept addresses keep their Backend object;
     * removed ones are marked draining (their connections finish); new ones start healthy.
     *
     * @return the backends that left the pool
     */
    public List<Backend> reconfigure(List<ResolvedBackend> backends,
            LoadBalancingConfig balancing, CircuitBreakerConfig circuitConfig) {
        List<Backend> removed = new ArrayList<>();
        writeLock.lock();
        try {
            this.balancing = balancing;
            this.circuitConfig = circuitConfig;
            BackendSet old = current.get();
            List<Backend> next = new ArrayList<>();
            for (ResolvedBackend rb : backends) {
                Backend existing = old.find(rb.config().id());
                if (existing != null) {
                    existing.update(rb.config(), rb.address(), circuitConfig);
                    next.add(existing);
                } else {
                    next.add(joining(rb));
                }
            }
            for (Backend b : old.backends()) {
                if (!next.contains(b)) {
                    b.markDraining();
                    removed.add(b);
                }
            }
            current.set(generation(next));
        } finally {
            writeLock.unlock();
        }
        if (!removed.isEmpty()) {
            removals.accept(List.copyOf(removed));
        }
        return removed;
    }

    /** Adds one backend at run time (admin API). @return false if the address is already in the pool */
    public boolean add(ResolvedBackend backend) {
        writeLock.lock();
        try {
            BackendSet old = current.get();
            if (old.find(backend.config().id()) != null) {
                return false;
            }
            List<Backend> next = new ArrayList<>(old.backends());
            next.add(joining(backend));
            current.set(generation(next));
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    /** A new backend for a running pool: it starts warming. Call under the write lock. */
    private Backend joining(ResolvedBackend rb) {
        Backend b = new Backend(rb.config(), rb.address(), circuitConfig, clock);
        b.startWarming();
        return b;
    }

    /**
     * Gives a member a new config in place (DNS discovery: an SRV weight changed), keeping its
     * counters, health and open connections. @return false if the pool has no such member
     */
    public boolean update(ResolvedBackend backend) {
        writeLock.lock();
        try {
            BackendSet old = current.get();
            Backend existing = old.find(backend.config().id());
            if (existing == null) {
                return false;
            }
            existing.update(backend.config(), backend.address(), circuitConfig);
            current.set(generation(old.backends())); // the balancer reads weights when built
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    /** Removes one backend at run time; its open connections finish. @return the removed backend or null */
    public Backend remove(String id) {
        Backend gone;
        writeLock.lock();
        try {
            BackendSet old = current.get();
            gone = old.find(id);
            if (gone == null) {
                return null;
            }
            List<Backend> next = new ArrayList<>(old.backends());
            next.remove(gone);
            gone.markDraining();
            current.set(generation(next));
        } finally {
            writeLock.unlock();
        }
        removals.accept(List.of(gone));
        return gone;
    }
}
