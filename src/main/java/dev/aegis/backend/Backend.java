package dev.aegis.backend;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.traffic.CircuitBreaker;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A live backend: its address, counters, health and circuit. One object lives as long as the
 * backend stays in the configuration: a reload that keeps the address keeps the object (and so
 * its counters, health and open connections) and only hands it the new {@link BackendConfig}.
 * A backend removed by a reload is marked draining: it takes no new traffic while its open
 * connections finish.
 */
public final class Backend {

    private final String id;
    private final CircuitBreaker circuit;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private volatile BackendConfig config;
    private volatile InetSocketAddress address;
    /** The latest {@link #targetFor} result of a port-less backend; a benign race between listeners. */
    private volatile PortlessTarget portless;
    private volatile boolean healthy = true;
    private volatile boolean draining;
    /** Removed under {@code backend_removal: close}: a connection that connects to it now closes itself. */
    private volatile boolean evicted;

    public Backend(BackendConfig config, InetSocketAddress address, CircuitBreakerConfig circuitConfig) {
        this.id = config.id();
        this.config = config;
        this.address = address;
        this.circuit = new CircuitBreaker(circuitConfig);
    }

    /** The address as written in the config: the identity in the admin API, metrics and logs. */
    public String id() {
        return id;
    }

    public InetSocketAddress address() {
        return address;
    }

    /**
     * Where to send traffic that reached a listener on {@code listenerPort}: the backend's address,
     * or for a port-less backend (port 0: "the port the client reached", SPEC §9) its IP with the
     * listener's port. The combined address is cached, so the connection and session paths do not
     * allocate one each time; a listener has one port and a backend sits behind few listeners, so
     * the one-entry cache hits except when several listeners alternate (then it costs one small
     * object, as the caller would have).
     */
    public InetSocketAddress targetFor(int listenerPort) {
        InetSocketAddress a = address;
        if (a.getPort() != 0) {
            return a;
        }
        PortlessTarget cached = portless;
        if (cached != null && cached.from == a && cached.target.getPort() == listenerPort) {
            return cached.target;
        }
        InetSocketAddress t = a.isUnresolved() ? InetSocketAddress.createUnresolved(a.getHostString(), listenerPort)
                : new InetSocketAddress(a.getAddress(), listenerPort);
        portless = new PortlessTarget(a, t);
        return t;
    }

    /** A {@link #targetFor} result and the backend address it was made from (a reload may change it). */
    private record PortlessTarget(InetSocketAddress from, InetSocketAddress target) {
    }

    public BackendConfig config() {
        return config;
    }

    public int weight() {
        return config.weight();
    }

    public CircuitBreaker circuit() {
        return circuit;
    }

    /** Applies a reloaded config entry with the same address (weight, limit, check may change). */
    public void update(BackendConfig config, InetSocketAddress resolved, CircuitBreakerConfig circuitConfig) {
        this.config = config;
        this.address = resolved;
        this.circuit.reconfigure(circuitConfig);
        this.draining = false;
        this.evicted = false;
    }

    /**
     * May a balancer pick this backend for a new connection? Healthy, not draining, weight above
     * zero, circuit letting traffic through and below its own connection limit. Reads only
     * volatile fields: no lock, no allocation.
     */
    public boolean isAvailable() {
        return healthy && isUsableIgnoringHealth();
    }

    /** {@link #isAvailable()}, or in panic mode ({@code ignoreHealth}) {@link #isUsableIgnoringHealth()}. */
    public boolean isEligible(boolean ignoreHealth) {
        return (healthy || ignoreHealth) && isUsableIgnoringHealth();
    }

    /**
     * Everything {@link #isAvailable()} asks except the health check's verdict: what panic mode
     * ({@code load_balancing.panic_threshold}) still respects.
     */
    public boolean isUsableIgnoringHealth() {
        BackendConfig c = config;
        return !draining && c.weight() > 0 && circuit.allowsTraffic()
                && (c.maxConnections() == 0 || active.get() < c.maxConnections());
    }

    /**
     * Everything {@link #isEligible} asks except room below {@code max_connections}: a backend that
     * would be picked if it had a free slot. What a connection queue waits for.
     */
    public boolean isEligibleIgnoringCapacity(boolean ignoreHealth) {
        return (healthy || ignoreHealth) && !draining && config.weight() > 0 && circuit.allowsTraffic();
    }

    /** Below its {@code max_connections} (always, when it has none). */
    public boolean hasFreeSlot() {
        int max = config.maxConnections();
        return max == 0 || active.get() < max;
    }

    /**
     * Claims a connection slot: respects {@code max_connections} exactly (compare-and-set) and the
     * circuit breaker (in half-open only one trial gets through). Pair with {@link #release()}.
     */
    public boolean tryAcquire() {
        int max = config.maxConnections();
        while (true) {
            int now = active.get();
            if (max > 0 && now >= max) {
                return false;
            }
            if (active.compareAndSet(now, now + 1)) {
                break;
            }
        }
        if (!circuit.tryAcquire()) {
            active.decrementAndGet();
            return false;
        }
        total.increment();
        return true;
    }

    /** Gives back the slot taken by a successful {@link #tryAcquire()}. */
    public void release() {
        active.decrementAndGet();
    }

    /** The backend answered (connected): resets the circuit's failure count. */
    public void recordSuccess() {
        circuit.onSuccess();
    }

    /** A connect error, connect timeout or read timeout. */
    public void recordFailure() {
        failures.increment();
        circuit.onFailure();
    }

    public int activeConnections() {
        return active.get();
    }

    public long totalConnections() {
        return total.sum();
    }

    public long failedConnections() {
        return failures.sum();
    }

    public boolean isHealthy() {
        return healthy;
    }

    /** Set by the health checker when the consecutive-result threshold is crossed. */
    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    public boolean isDraining() {
        return draining;
    }

    /** Removed from the configuration: no new traffic, open connections finish. */
    public void markDraining() {
        this.draining = true;
    }

    /**
     * Removed under {@code backend_removal: close}: draining, and its open connections are to be
     * reset. Set before the remover looks for them, so a connection that finishes its connect
     * after that look sees the flag ({@link #isEvicted()}) and closes itself.
     */
    public void markEvicted() {
        this.draining = true;
        this.evicted = true;
    }

    /** Removed under {@code backend_removal: close} (and not added back since). */
    public boolean isEvicted() {
        return evicted;
    }

    @Override
    public String toString() {
        return id;
    }
}
