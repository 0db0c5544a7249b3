package dev.aegis.tcp;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Gives the memory of a wave of parked connections back to the system.
 *
 * <p>When thousands of connections go idle together (a fleet of clients connecting after a
 * deploy, a pool of database connections opened at once), their pipes' virtual threads end as
 * they park, and the threads' stacks (stack chunks, a few KB per connection) become garbage. By
 * then the serial collector has usually promoted them: they lived for the parking threshold,
 * through many young collections. Only a full collection frees the old generation, and with
 * nothing allocating while connections idle, none comes: the process would stay at its burst peak
 * (measured at 9,000 idle connections: 6.6 KB of RSS per connection, 2.2 KB of it live).
 *
 * <p>So once a wave has parked and stopped (at least {@link #MIN_CHANNELS} channels parked since
 * the last collection, none in the last {@link #QUIET_NANOS}), this asks for one full collection;
 * with {@code -XX:-ShrinkHeapInSteps} (bin/aegis) the heap then shrinks to what is live at once.
 * A steady trickle of parks is collected at most every {@link #MAX_DELAY_NANOS}. The price is one
 * stop-the-world pause proportional to the live heap (measured 48-60 ms at 9,000 connections on
 * this machine's one pinned core), paid once per wave, which the old generation filling up would
 * have cost later anyway. {@code -Daegis.tcp.collectAfterParking=false} turns it off.
 *
 * <p>Thread safety: {@link #parked} from any thread (counters only); {@link #check} from the
 * parking selector's thread alone.
 */
final class ParkedStacks {

    /** Channels (two per connection) parked since the last collection before one is worth it. */
    static final long MIN_CHANNELS = 2_000;
    static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** How often {@link #check} should run while parks wait for a collection. */
    static final long CHECK_MILLIS = 100;

    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("aegis.tcp.collectAfterParking", "true"));

    private final LongSupplier clock;
    private final Runnable collect;
    private final AtomicLong pending = new AtomicLong();
    private volatile long lastParkNanos;
    /** When the first of the pending parks happened; the selector thread's alone. */
    private long firstPendingNanos;
    private boolean waiting;

    ParkedStacks(LongSupplier clock, Runnable collect) {
        this.clock = clock;
        this.collect = collect;
    }

    /** A channel parked (its pipe's thread ended). */
    void parked() {
        lastParkNanos = clock.getAsLong();
        pending.incrementAndGet();
    }

    /** True while parks wait to be collected: the caller should {@link #check} again in {@link #CHECK_MILLIS}. */
    boolean waiting() {
        return pending.get() > 0;
    }

    /**
     * Collects when a wave of at least {@link #MIN_CHANNELS} parks has been quiet for
     * {@link #QUIET_NANOS}, or parks have trickled in for {@link #MAX_DELAY_NANOS}.
     *
     * @return true when it asked for a collection
     */
    boolean check() {
        long n = pending.get();
        if (n == 0) {
            waiting = false;
            return false;
        }
        long now = clock.getAsLong();
        if (!waiting) {
            waiting = true;
            firstPendingNanos = now;
        }
        boolean quiet = now - lastParkNanos >= QUIET_NANOS;
        boolean overdue = now - firstPendingNanos >= MAX_DELAY_NANOS;
        if (n < MIN_CHANNELS || !(quiet || overdue)) {
            if (quiet && n < MIN_CHANNELS) {
                pending.addAndGet(-n); // a small wave: not worth a pause; forget it
                waiting = false;
            }
            return false;
        }
        pending.addAndGet(-n);
        waiting = false;
        collect.run();
        return true;
    }
}
