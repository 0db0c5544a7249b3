package dev.aegis.traffic;

import dev.aegis.config.RateLimitConfig;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The admission limits of one config generation ({@code proxy.traffic.rate_limit}): a global
 * token bucket for new TCP connections plus new UDP sessions, an optional bucket per client
 * address, and the factories for per-connection bandwidth and per-session packet buckets.
 *
 * <h2>Per-client table</h2>
 * Clients are keyed by a {@code long}, not a String: an IPv4 address is its 32-bit value; an IPv6
 * address is its /64 prefix, because one IPv6 host usually owns a whole /64 and could otherwise
 * dodge its limit by rotating addresses (see {@link #clientKey(InetAddress)}).
 * <p>
 * The table is bounded, so that a flood of spoofed source addresses cannot grow memory without
 * limit: it never holds more than {@code maxClients} entries (default {@value #DEFAULT_MAX_CLIENTS},
 * about 100 bytes each, so about 6.5 MB when full). A slot is reserved with a compare-and-set on a
 * counter before an entry is inserted, which makes the cap exact under concurrency.
 * <ul>
 *   <li>Idle entries go away in {@link #sweep()}, which the housekeeping scheduler calls: an entry
 *       whose bucket has refilled completely ({@code burst / rate} seconds without a request) is in
 *       the same state as a fresh one, so forgetting it changes no decision.</li>
 *   <li>When the table is full, a new client first triggers an early sweep (at most one per second,
 *       by one thread, so a flood cannot turn it into a CPU sink). If that frees no slot, the client
 *       is charged to one shared <em>overflow bucket</em> with the per-client rate and burst: clients
 *       that are already known keep their own buckets, and all the unknown ones together get one
 *       client's worth until idle entries expire. The global bucket still applies to everybody.</li>
 * </ul>
 * A sweep racing with a request of the same client can let that client in once more than its
 * bucket allows (it may take a token from the entry being removed, then get a fresh entry): a
 * bounded, rare leniency accepted to keep the request path free of locks.
 *
 * <h2>Order of the checks</h2>
 * The client's own bucket is charged first, the global one second: a client over its own limit is
 * turned away without consuming global tokens, so one noisy client cannot starve the others. A
 * request refused by the global bucket has still used one of its client's tokens.
 *
 * <h2>Reload</h2>
 * A RateLimiter belongs to one config generation and is never reconfigured in place. On reload call
 * {@link #reconfigure(RateLimitConfig)}: it returns this same instance (buckets and per-client
 * table kept) when {@code rate_limit} did not change, else a new RateLimiter whose buckets start
 * full. Connections keep the bandwidth bucket they were created with.
 */
public final class RateLimiter {

    /** Default cap of the per-client table. */
    public static final int DEFAULT_MAX_CLIENTS = 65_536;

    /** The outcome of {@link #admit(InetAddress)}. */
    public enum Verdict {
        ADMITTED,
        /** The global {@code requests_per_second} bucket is empty. */
        GLOBAL_LIMIT,
        /** The client's {@code per_client} bucket (or the shared overflow bucket) is empty. */
        CLIENT_LIMIT;

        public boolean admitted() {
            return this == ADMITTED;
        }
    }

    private static final long EARLY_SWEEP_SPACING_NANOS = 1_000_000_000L;

    private final RateLimitConfig config;
    private final LongSupplier nanoClock;
    private final TokenBucket global;
    private final boolean perClientOn;
    private final double clientRate;
    private final long clientBurst;
    private final int maxClients;
    private final ConcurrentHashMap<Long, TokenBucket> clients;
    /** Entries in {@code clients} plus slots reserved for entries being inserted; never above maxClients. */
    private final AtomicInteger clientSlots = new AtomicInteger();
    private final TokenBucket overflow;
    private final AtomicLong lastEarlySweep;

    /** A limiter on the system clock with the default per-client cap. */
    public RateLimiter(RateLimitConfig config) {
        this(config, DEFAULT_MAX_CLIENTS, System::nanoTime);
    }

    /**
     * @param config     the {@code rate_limit} block; rates of 0 switch the matching limit off
     * @param maxClients most client addresses tracked at once (at least 1)
     * @param nanoClock  time source in {@link System#nanoTime()} units (injected by tests)
     */
    public RateLimiter(RateLimitConfig config, int maxClients, LongSupplier nanoClock) {
        if (maxClients < 1) {
            throw new IllegalArgumentException("maxClients must be at least 1: " + maxClients);
        }
        this.config = config;
        this.nanoClock = nanoClock;
        this.maxClients = maxClients;
        this.global = TokenBucket.of(config.requestsPerSecond(), burstOrRate(config.burst(), config.requestsPerSecond()),
                nanoClock);
        RateLimitConfig.PerClient pc = config.perClient();
        this.perClientOn = pc != null && pc.requestsPerSecond() > 0;
        this.clientRate = perClientOn ? pc.requestsPerSecond() : 0;
        this.clientBurst = perClientOn ? burstOrRate(pc.burst(), pc.requestsPerSecond()) : 0;
        this.clients = perClientOn ? new ConcurrentHashMap<>(Math.min(maxClients, 1024)) : null;
        this.overflow = perClientOn ? TokenBucket.of(clientRate, clientBurst, nanoClock) : null;
        this.lastEarlySweep = new AtomicLong(nanoClock.getAsLong() - EARLY_SWEEP_SPACING_NANOS);
    }

    /**
     * Decides whether a new TCP connection or a new UDP session from {@code client} may start.
     * Lock-free. With {@code per_client} on it allocates a few small objects per call (the address
     * bytes, a boxed key, and for a client not seen recently its table entry): fine once per new
     * connection or session, which is the only place this is called.
     */
    public Verdict admit(InetAddress client) {
        if (perClientOn && !clientBucket(clientKey(client)).tryTake()) {
            return Verdict.CLIENT_LIMIT;
        }
        return global.tryTake() ? Verdict.ADMITTED : Verdict.GLOBAL_LIMIT;
    }

    /**
     * Forgets clients whose bucket has refilled completely. Called periodically by the
     * housekeeping scheduler (every few seconds is plenty).
     *
     * @return the number of entries removed
     */
    public int sweep() {
        if (!perClientOn) {
            return 0;
        }
        int removed = 0;
        for (Iterator<Map.Entry<Long, TokenBucket>> it = clients.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, TokenBucket> e = it.next();
            // remove(key, value): never drops an entry that was replaced in the meantime
            if (e.getValue().isFull() && clients.remove(e.getKey(), e.getValue())) {
                clientSlots.decrementAndGet();
                removed++;
            }
        }
        return removed;
    }

    /** Client addresses tracked now (never more than {@link #maxClients()}). */
    public int trackedClients() {
        return perClientOn ? clients.size() : 0;
    }

    public int maxClients() {
        return maxClients;
    }

    /**
     * A new bucket for one direction of one TCP connection: {@code per_connection.bytes_per_second},
     * with one second of traffic as burst. {@link TokenBucket#UNLIMITED} when the limit is off.
     * Use with {@link TokenBucket#acquireDelayNanos(long)} in the copy loop.
     */
    public TokenBucket newBandwidthBucket() {
        RateLimitConfig.PerConnection pc = config.perConnection();
        long rate = pc == null ? 0 : pc.bytesPerSecond();
        return TokenBucket.of(rate, rate, nanoClock);
    }

    /**
     * A new bucket for one UDP session: {@code per_connection.packets_per_second}, with one second
     * of packets as burst; a datagram that finds it empty is dropped ({@link TokenBucket#tryTake()}).
     * {@link TokenBucket#UNLIMITED} when the limit is off.
     */
    public TokenBucket newPacketBucket() {
        RateLimitConfig.PerConnection pc = config.perConnection();
        long rate = pc == null ? 0 : pc.packetsPerSecond();
        return TokenBucket.of(rate, rate, nanoClock);
    }

    /**
     * The limiter for a reloaded config: this one (state kept) if {@code rate_limit} is unchanged,
     * else a new one with full buckets and an empty per-client table, same cap and clock.
     */
    public RateLimiter reconfigure(RateLimitConfig next) {
        return next.equals(config) ? this : new RateLimiter(next, maxClients, nanoClock);
    }

    public RateLimitConfig config() {
        return config;
    }

    /**
     * The per-client key of an address: the IPv4 address as an unsigned 32-bit value, or the upper
     * 64 bits (the /64 prefix) of an IPv6 address. IPv6 prefixes below 2^32 (inside ::/32, which
     * holds only loopback and reserved space) may share keys with IPv4 addresses; harmless.
     */
    public static long clientKey(InetAddress address) {
        byte[] a = address.getAddress();
        if (address instanceof Inet4Address) {
            return ((a[0] & 0xFFL) << 24) | ((a[1] & 0xFFL) << 16) | ((a[2] & 0xFFL) << 8) | (a[3] & 0xFFL);
        }
        long prefix = 0;
        for (int i = 0; i < 8; i++) {
            prefix = (prefix << 8) | (a[i] & 0xFFL);
        }
        return prefix;
    }

    private TokenBucket clientBucket(long key) {
        Long boxed = key;
        TokenBucket bucket = clients.get(boxed);
        if (bucket != null) {
            return bucket;
        }
        if (!reserveSlot() && !(earlySweep() && reserveSlot())) {
            return overflow;
        }
        TokenBucket fresh = TokenBucket.of(clientRate, clientBurst, nanoClock);
        TokenBucket raced = clients.putIfAbsent(boxed, fresh);
        if (raced != null) {
            clientSlots.decrementAndGet(); // another thread inserted this client first
            return raced;
        }
        return fresh;
    }

    private boolean reserveSlot() {
        while (true) {
            int n = clientSlots.get();
            if (n >= maxClients) {
                return false;
            }
            if (clientSlots.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Sweeps now if nobody did in the last second; true if this call swept. */
    private boolean earlySweep() {
        long now = nanoClock.getAsLong();
        long last = lastEarlySweep.get();
        if (now - last < EARLY_SWEEP_SPACING_NANOS || !lastEarlySweep.compareAndSet(last, now)) {
            return false;
        }
        return sweep() > 0;
    }

    /** {@code burst} as configured, or one second's worth of the rate (at least 1) when unset. */
    private static long burstOrRate(long burst, double rate) {
        return burst > 0 ? burst : Math.max(1, (long) Math.ceil(rate));
    }
}
