package dev.aegis.backend;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.traffic.CircuitBreaker;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A live backend: its address, counters, health and circuit. One object lives as long as the
 * backend stays in the configuration: a reload that keeps the address keeps the object (and so
 * its counters, health and open connections) and only hands it the new {@link BackendConfig}.
 * A backend removed by a reload is marked draining: it takes no new traffic while its open
 * connections finish.
 *
 * <p><b>Slow start</b> ({@code load_balancing.slow_start}). A backend that joins a running pool
 * (admin API, reload, discovery) or whose health check turns it healthy again starts
 * <em>warming</em>: its {@link #warmth effective weight} grows linearly from 10 % to 100 % of its
 * weight over the pool's slow-start time, so a cold JVM or an empty cache is not flooded. The
 * backends a pool starts with are warm at once (they all start together; ramping them all alike
 * would change nothing). Only the start time is stored; the ramp is computed from it on each
 * pick, from the clock this backend was given ({@link System#nanoTime()} outside tests).
 */
public final class Backend {

    /** {@link #warmth} of a backend at its full weight, in thousandths. */
    public static final int FULL_WARMTH = 1000;
    /** {@link #warmth} right after a backend starts warming: 10 %. */
    public static final int INITIAL_WARMTH = 100;
    /** {@link #warmingSince} of a warm backend. */
    private static final long WARM = Long.MIN_VALUE;

    private final String id;
    private final CircuitBreaker circuit;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesToClients = new LongAdder();
    private volatile BackendConfig config;
    private volatile InetSocketAddress address;
    /** The latest {@link #targetFor} result of a port-less backend; a benign race between listeners. */
    private volatile PortlessTarget portless;
    private volatile boolean healthy = true;
    private volatile boolean draining;
    private final LongSupplier clock;
    /** The clock reading when warming started, or {@link #WARM}. */
    private final AtomicLong warmingSince = new AtomicLong(WARM);
    /** Removed under {@code backend_removal: close}: a connection that connects to it now closes itself. */
    private volatile boolean evicted;

    public Backend(BackendConfig config, InetSocketAddress address, CircuitBreakerConfig circuitConfig) {
        this(config, address, circuitConfig, System::nanoTime);
    }

    /** A backend whose slow start reads {@code clock} (nanoseconds, as {@link System#nanoTime()}). */
    public Backend(BackendConfig config, InetSocketAddress address, CircuitBreakerConfig circuitConfig,
            LongSupplier clock) {
        this.clock = clock;
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

    /**
     * TCP payload relayed through this backend, counted as it moves (not at close), so a long
     * connection shows its traffic while it lasts: what the dashboard's per-backend bytes/s reads.
     */
    public void countBytes(boolean fromClient, int n) {
        (fromClient ? bytesFromClients : bytesToClients).add(n);
    }

    /** TCP payload bytes its connections' clients sent (and it was sent). */
    public long bytesFromClients() {
        return bytesFromClients.sum();
    }

    /** TCP payload bytes it sent back to clients. */
    public long bytesToClients() {
        return bytesToClients.sum();
    }

    public boolean isHealthy() {
        return healthy;
    }

    /**
     * Set by the health checker when the consecutive-result threshold is crossed. Down to up
     * starts {@link #startWarming() warming}.
     */
    public void setHealthy(boolean healthy) {
        boolean was = this.healthy;
        this.healthy = healthy;
        if (healthy && !was) {
            startWarming();
        }
    }

    /** Starts the slow-start ramp now: the backend joined a running pool or recovered. */
    public void startWarming() {
        warmingSince.set(clock.getAsLong());
    }

    /**
     * The share of its weight this backend takes now, in thousandths: {@link #FULL_WARMTH} when
     * warm or when {@code slowStartNanos} is 0, otherwise growing linearly from
     * {@link #INITIAL_WARMTH} to {@link #FULL_WARMTH} over {@code slowStartNanos} since warming
     * started. A warm backend costs one volatile read; a warming one a clock read. The first call
     * past the ramp marks the backend warm (a compare-and-set, so that a restart of the ramp by a
     * health flip in between is not lost).
     */
    public int warmth(long slowStartNanos) {
        if (slowStartNanos <= 0) {
            return FULL_WARMTH; // slow start off: not even the volatile read
        }
        long since = warmingSince.get();
        if (since == WARM) {
            return FULL_WARMTH;
        }
        long elapsed = clock.getAsLong() - since;
        if (elapsed >= slowStartNanos) {
            warmingSince.compareAndSet(since, WARM);
            return FULL_WARMTH;
        }
        // slow_start is at most 24 h (8.64e13 ns): 900 times that fits a long
        return INITIAL_WARMTH + (int) ((FULL_WARMTH - INITIAL_WARMTH) * Math.max(0, elapsed) / slowStartNanos);
    }

    /**
     * Whether this backend takes turn number {@code ticket} of a rotation (round robin, smooth
     * weighted) under slow start: always when warm, otherwise {@link #warmth} in a thousand turns.
     * Which turns it takes is spread evenly over the ticket numbers by the golden-ratio (Weyl)
     * sequence, so the decision is a pure function of the ticket: no shared state, no random
     * generator, and a pick that retries its compare-and-set decides the same way again.
     */
    public boolean takesTurn(long ticket, long slowStartNanos) {
        int warmth = warmth(slowStartNanos);
        if (warmth >= FULL_WARMTH) {
            return true;
        }
        long fraction = (ticket * 0x9E3779B97F4A7C15L) >>> 32; // frac(ticket * golden ratio), 32 bits
        return (fraction * FULL_WARMTH >>> 32) < warmth;
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
