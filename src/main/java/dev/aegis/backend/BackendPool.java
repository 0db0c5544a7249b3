package dev.aegis.backend;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.LoadBalancingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A named pool of backends ("tcp" or "udp") whose membership changes while connections run.
 * Readers (every new connection) take the current {@link BackendSet} with one volatile read;
 * writers (reload, the admin API) build the next generation under a lock and swap it in.
 * Backend objects are reused across generations when their address stays, so counters, health
 * and open connections carry over a reload. The balancing algorithm comes from outside, as a
 * {@link Selector.Factory} ({@code Balancers::create}), so this package does not depend on
 * {@code dev.aegis.balancer}.
 */
public final class BackendPool {

    private final String name;
    /** Shared by every generation, so the count survives reloads. */
    private final LongAdder panicPicks = new LongAdder();
    private final AtomicReference<BackendSet> current;
    /** Serialises writers only; never taken on the connection path. */
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Selector.Factory selectors;
    private LoadBalancingConfig balancing;
    private CircuitBreakerConfig circuitConfig;

    public BackendPool(String name, List<ResolvedBackend> backends,
            LoadBalancingConfig balancing, CircuitBreakerConfig circuitConfig, Selector.Factory selectors) {
        this.name = name;
        this.selectors = selectors;
        this.balancing = balancing;
        this.circuitConfig = circuitConfig;
        List<Backend> live = new ArrayList<>();
        for (ResolvedBackend rb : backends) {
            live.add(new Backend(rb.config(), rb.address(), circuitConfig));
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
                    next.add(new Backend(rb.config(), rb.address(), circuitConfig));
                }
            }
            List<Backend> removed = new ArrayList<>();
            for (Backend b : old.backends()) {
                if (!next.contains(b)) {
                    b.markDraining();
                    removed.add(b);
                }
            }
            current.set(generation(next));
            return removed;
        } finally {
            writeLock.unlock();
        }
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
            next.add(new Backend(backend.config(), backend.address(), circuitConfig));
            current.set(generation(next));
            return true;
        } finally {
            writeLock.unlock();
        }
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
        writeLock.lock();
        try {
            BackendSet old = current.get();
            Backend gone = old.find(id);
            if (gone == null) {
                return null;
            }
            List<Backend> next = new ArrayList<>(old.backends());
            next.remove(gone);
            gone.markDraining();
            current.set(generation(next));
            return gone;
        } finally {
            writeLock.unlock();
        }
    }
}
