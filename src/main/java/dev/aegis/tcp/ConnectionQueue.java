package dev.aegis.tcp;

import dev.aegis.backend.Attempts;
import dev.aegis.backend.BackendPool;
import dev.aegis.backend.BackendSet.Capacity;
import dev.aegis.config.QueueConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A service's connection queue ({@code queue: {size, timeout}}, SPEC §11): when every eligible
 * backend of a pool is at its {@code max_connections}, a new TCP connection waits here, on its own
 * virtual thread, for at most {@code timeout}, in a FIFO of at most {@code size}; beyond it the
 * connection is rejected ({@code queue_full}), and one that waited in vain too ({@code queue_timeout}).
 *
 * <p>Hand-off. A connection that ends gives its slot back and wakes the oldest waiter of the same
 * pool that is not awake yet ({@link #slotFreed}); that waiter then picks a backend as any new
 * connection does. New connections do not overtake: while anyone waits for a pool, a newcomer
 * queues behind them instead of trying ({@link #waitingFor}). Only a connection that arrives in the
 * same instant as a slot frees up can take it first; the woken waiter then keeps its place at the
 * head and waits again. Slots that appear without a connection ending (a backend turns healthy,
 * is added, gets a higher limit, its circuit closes) are found by the listener's sweeper
 * ({@link #poke}, every 10-250 ms), and a waiter that got a slot wakes the next one if there is
 * still room, so a burst of room drains the queue at once.
 *
 * <p>Each waiter has its own {@link Condition} under one {@link ReentrantLock}: no {@code
 * synchronized} (a virtual thread blocked in it would pin its carrier), no timer thread (a waiter's
 * timeout is its own {@code awaitNanos}), and the lock is never held across I/O: the backend
 * connect happens outside it. Without waiters, a finishing connection pays one volatile read.
 *
 * <p>One queue per service lives across reloads; {@link #reconfigure} changes size and timeout in
 * place (a smaller size turns new arrivals away, it does not evict waiters).
 */
public final class ConnectionQueue {

    private final ReentrantLock lock = new ReentrantLock();
    /** In arrival order. Guarded by {@link #lock}. */
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** {@code waiters.size()}, for reads without the lock (fast paths, the gauge). */
    private volatile int length;
    private volatile int size;
    private volatile long timeoutNanos;

    public ConnectionQueue(QueueConfig config) {
        reconfigure(config);
    }

    /** Takes a reloaded {@code queue:}. */
    public void reconfigure(QueueConfig config) {
        this.size = config.size();
        this.timeoutNanos = config.timeout().toNanos();
    }

    /** Connections waiting now: the gauge {@code proxy_queue_length}. */
    public int length() {
        return length;
    }

    boolean enabled() {
        return size > 0;
    }

    /** One waiting connection. {@code woken} is guarded by the queue's lock. */
    private static final class Waiter {
        final BackendPool pool;
        final Condition turn;
        boolean woken;

        Waiter(BackendPool pool, Condition turn) {
            this.pool = pool;
            this.turn = turn;
        }
    }

    /**
     * How waiting ended: {@code result} is the attempt that went past "no slot" (connected, or the
     * backends failed), or {@code rejected} says why the queue turned it away; both null when the
     * connection was closed under it (shutdown).
     */
    record Waited(Attempts.Result result, RejectReason rejected) {
        static final Waited FULL = new Waited(null, RejectReason.QUEUE_FULL);
        static final Waited TIMED_OUT = new Waited(null, RejectReason.QUEUE_TIMEOUT);
        static final Waited ABANDONED = new Waited(null, null);
    }

    /** Is anyone waiting for a slot of {@code pool}? One volatile read when the queue is empty. */
    boolean waitingFor(BackendPool pool) {
        if (length == 0) {
            return false;
        }
        lock.lock();
        try {
            for (Waiter w : waiters) {
                if (w.pool == pool) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues {@code connection} for a slot of {@code pool} and tries again each time it is woken,
     * until an attempt gets past "no slot", the timeout passes or the connection is closed.
     */
    Waited await(BackendPool pool, TcpConnection connection) {
        Waiter w;
        lock.lock();
        try {
            if (waiters.size() >= size) {
                return Waited.FULL;
            }
            w = new Waiter(pool, lock.newCondition());
            waiters.addLast(w);
            length = waiters.size();
            // a slot may have freed between this connection's look and now, with no one to wake
            if (pool.current().capacity() == Capacity.FREE) {
                wakeOldest(pool);
            }
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            while (true) {
                lock.lock();
                try {
                    while (!w.woken) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return Waited.TIMED_OUT;
                        }
                        w.turn.awaitNanos(left);
                    }
                    w.woken = false;
                } finally {
                    lock.unlock();
                }
                if (connection.abandoned()) {
                    return Waited.ABANDONED;
                }
                Attempts.Result r = connection.attemptFromQueue(); // outside the lock: it connects
                if (r != Attempts.Result.NO_BACKEND) {
                    return new Waited(r, null);
                }
                // the slot went to a connection that arrived just then: keep the place, wait again
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Waited.ABANDONED;
        } finally {
            lock.lock();
            try {
                waiters.remove(w);
                length = waiters.size();
                // room left (several slots at once, or a wake-up this waiter no longer needs): pass it on
                if (length > 0 && pool.current().capacity() == Capacity.FREE) {
                    wakeOldest(pool);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** A connection of {@code pool} gave its slot back: the oldest waiter of that pool gets its turn. */
    void slotFreed(BackendPool pool) {
        if (length == 0) {
            return;
        }
        lock.lock();
        try {
            wakeOldest(pool);
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the oldest waiter of each pool that has room now. The sweeper's periodic look. */
    void poke() {
        if (length == 0) {
            return;
        }
        lock.lock();
        try {
            List<BackendPool> seen = new ArrayList<>(2);
            for (Waiter w : waiters) {
                if (!seen.contains(w.pool)) {
                    seen.add(w.pool);
                    if (w.pool.current().capacity() == Capacity.FREE) {
                        wakeOldest(w.pool);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiter, so that those whose connection was closed (shutdown) leave. */
    void wakeAll() {
        if (length == 0) {
            return;
        }
        lock.lock();
        try {
            for (Waiter w : waiters) {
                w.woken = true;
                w.turn.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: the oldest waiter of {@code pool} not woken yet, if any, is woken. */
    private void wakeOldest(BackendPool pool) {
        for (Waiter w : waiters) {
            if (w.pool == pool && !w.woken) {
                w.woken = true;
                w.turn.signal();
                return;
            }
        }
    }
}
