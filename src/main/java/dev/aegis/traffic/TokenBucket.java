package dev.aegis.traffic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;

/**
 * A lock-free token bucket: {@code rate} tokens per second, holding at most {@code burst}.
 *
 * <p>It is written in the GCRA ("virtual scheduling") form: the whole state is one {@code long},
 * the <em>theoretical arrival time</em> (TAT), in {@link System#nanoTime()} units. Every token
 * costs {@code 1e9 / rate} nanoseconds of that virtual time; taking {@code n} tokens moves the
 * TAT forward by {@code n} costs, starting from now if the TAT lies in the past. A take is allowed
 * while the TAT stays within {@code burst} costs ahead of now. So:
 * <ul>
 *   <li>TAT &le; now: the bucket is full ({@code burst} tokens);</li>
 *   <li>TAT = now + burst costs: the bucket is empty;</li>
 *   <li>TAT beyond that: the bucket is in debt (only {@link #acquireDelayNanos(long)} goes there).</li>
 * </ul>
 * One compare-and-set per take, no lock and no allocation. The TAT lives in a {@code volatile long}
 * field updated through a {@link VarHandle} rather than in an {@code AtomicLong}, which saves one
 * object per bucket: the per-client table of {@link RateLimiter} holds tens of thousands of them.
 *
 * <p>Resolution: a take of {@code n} tokens costs {@code round(n * 1e9 / rate)} whole nanoseconds,
 * so rates above about 10^9 tokens per second are only approximated for single-token takes; byte
 * rates taken in chunks (what the TCP pipe does) stay exact to a fraction of a nanosecond per chunk.
 *
 * <p>A rate of 0 (or less) means "no limit": {@link #of} then returns the shared {@link #UNLIMITED}
 * instance, whose takes always succeed and never wait.
 */
public final class TokenBucket {

    /** The bucket used where no limit is configured: every take succeeds at once. */
    public static final TokenBucket UNLIMITED = new TokenBucket(0, 0, System::nanoTime);

    /**
     * Caps the virtual time one call may add, so that a giant {@code n} cannot overflow the TAT.
     * About 36 years: far beyond any debt a real caller builds.
     */
    private static final long MAX_COST = Long.MAX_VALUE >> 3;

    private static final VarHandle TAT;

    static {
        try {
            TAT = MethodHandles.lookup().findVarHandle(TokenBucket.class, "tat", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final double ratePerSecond;
    private final long burst;
    private final boolean unlimited;
    /** Nanoseconds of virtual time that one token costs. */
    private final double nanosPerToken;
    /** How far ahead of now the TAT may run before takes are refused: burst tokens' worth. */
    private final long tolerance;
    private final LongSupplier nanoClock;
    /** The theoretical arrival time; read and CAS-ed through {@link #TAT}. */
    private volatile long tat;

    private TokenBucket(double ratePerSecond, long burst, LongSupplier nanoClock) {
        this.unlimited = !(ratePerSecond > 0);
        this.ratePerSecond = unlimited ? 0 : ratePerSecond;
        this.burst = unlimited ? 0 : Math.max(1, burst);
        this.nanosPerToken = unlimited ? 0 : 1e9 / ratePerSecond;
        this.nanoClock = nanoClock;
        this.tolerance = unlimited ? 0 : costOf(this.burst);
        // Start full: the TAT is "now", so the first burst tokens are there at once.
        this.tat = unlimited ? 0 : nanoClock.getAsLong();
    }

    /**
     * A bucket on the system clock.
     *
     * @param ratePerSecond tokens added per second; 0 or less = no limit ({@link #UNLIMITED})
     * @param burst         tokens the bucket holds when full; values below 1 count as 1
     */
    public static TokenBucket of(double ratePerSecond, long burst) {
        return of(ratePerSecond, burst, System::nanoTime);
    }

    /** As {@link #of(double, long)} with an injected clock in {@link System#nanoTime()} units (tests). */
    public static TokenBucket of(double ratePerSecond, long burst, LongSupplier nanoClock) {
        if (!(ratePerSecond > 0)) {
            return UNLIMITED;
        }
        return new TokenBucket(ratePerSecond, burst, nanoClock);
    }

    /** Takes one token if there is one. */
    public boolean tryTake() {
        return tryTake(1);
    }

    /**
     * Takes {@code n} tokens if all of them are there now, else takes nothing. A request larger
     * than the burst can never succeed; {@code n <= 0} always succeeds.
     */
    public boolean tryTake(long n) {
        if (unlimited || n <= 0) {
            return true;
        }
        long cost = costOf(n);
        if (cost > tolerance) {
            return false;
        }
        while (true) {
            long now = nanoClock.getAsLong();
            long current = (long) TAT.getVolatile(this);
            long next = (current - now > 0 ? current : now) + cost;
            if (next - now > tolerance) {
                return false;
            }
            if (TAT.compareAndSet(this, current, next)) {
                return true;
            }
        }
    }

    /**
     * Takes {@code n} tokens unconditionally, going into debt if they are not there, and says how
     * long the caller must wait before using them. This is the form for bandwidth shaping in a
     * blocking copy loop: read a chunk of {@code n} bytes, park for the returned time, write it.
     * Successive calls queue up behind each other's debt, so the long-run rate is exact whatever
     * the chunk sizes (a chunk larger than the burst simply waits longer).
     *
     * @return nanoseconds to wait before going ahead; 0 = go now
     */
    public long acquireDelayNanos(long n) {
        if (unlimited || n <= 0) {
            return 0;
        }
        long cost = costOf(n);
        while (true) {
            long now = nanoClock.getAsLong();
            long current = (long) TAT.getVolatile(this);
            long next = (current - now > 0 ? current : now) + cost;
            if (TAT.compareAndSet(this, current, next)) {
                long wait = next - now - tolerance;
                return wait > 0 ? wait : 0;
            }
        }
    }

    /**
     * How long until {@code n} tokens are there, without taking them: 0 if they are there now.
     * For {@code n} above the burst this is the time until the bucket could pay for them in debt.
     */
    public long nanosUntil(long n) {
        if (unlimited || n <= 0) {
            return 0;
        }
        long now = nanoClock.getAsLong();
        long current = (long) TAT.getVolatile(this);
        long wait = (current - now > 0 ? current : now) + costOf(n) - now - tolerance;
        return wait > 0 ? wait : 0;
    }

    /** Whole tokens available now: 0 when empty or in debt; {@link Long#MAX_VALUE} if unlimited. */
    public long available() {
        if (unlimited) {
            return Long.MAX_VALUE;
        }
        long now = nanoClock.getAsLong();
        long current = (long) TAT.getVolatile(this);
        long ahead = current - now > 0 ? current - now : 0;
        long room = tolerance - ahead;
        return room <= 0 ? 0 : Math.min(burst, (long) Math.floor(room / nanosPerToken + 1e-9));
    }

    /**
     * True when the bucket has refilled completely, i.e. nothing was taken for at least
     * {@code burst / rate} seconds: its state is then the same as a brand new bucket's, which is
     * what lets {@link RateLimiter#sweep()} forget it. The unlimited bucket is always full.
     */
    public boolean isFull() {
        return unlimited || (long) TAT.getVolatile(this) - nanoClock.getAsLong() <= 0;
    }

    public boolean isUnlimited() {
        return unlimited;
    }

    /** Tokens per second; 0 for the unlimited bucket. */
    public double rate() {
        return ratePerSecond;
    }

    /** Tokens the bucket holds when full; 0 for the unlimited bucket. */
    public long burst() {
        return burst;
    }

    private long costOf(long n) {
        double cost = n * nanosPerToken;
        return cost >= MAX_COST ? MAX_COST : Math.round(cost);
    }

    @Override
    public String toString() {
        return unlimited ? "TokenBucket[unlimited]" : "TokenBucket[rate=" + ratePerSecond + "/s, burst=" + burst + "]";
    }
}
