package dev.aegis.tcp;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded pool of direct buffers of one size. Direct buffers let a blocking SocketChannel
 * read and write without the JDK copying through a temporary buffer, but they are expensive to
 * allocate and are only freed by a full GC, so connections borrow them instead: in steady state
 * every buffer taken is given back and nothing is allocated.
 *
 * <p>The pool is a few stripes, each a small LIFO stack behind its own lock. A lock is held for a
 * push or a pop only (never across I/O) and taken with {@code tryLock}: a thread that finds a
 * stripe busy moves to the next one instead of waiting. Every stripe is tried before the pool
 * allocates a new buffer (all empty) or drops a returned one (all full), so neither happens
 * while the pool has room or buffers.
 */
final class BufferPool {

    private static final int STRIPES = 8;

    private final int bufferSize;
    private final Stripe[] stripes = new Stripe[STRIPES];

    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        final ByteBuffer[] stack;
        int size;

        Stripe(int capacity) {
            stack = new ByteBuffer[capacity];
        }

        /** The first pass over the stripes skips busy ones ({@code wait == false}), the second waits. */
        boolean lock(boolean wait) {
            if (wait) {
                lock.lock();
                return true;
            }
            return lock.tryLock();
        }
    }

    /**
     * @param bufferSize bytes per buffer
     * @param capacity   buffers kept at most when they are given back (spread over the stripes)
     */
    BufferPool(int bufferSize, int capacity) {
        this.bufferSize = bufferSize;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe(Math.max(1, capacity / STRIPES));
        }
    }

    ByteBuffer acquire() {
        int start = home();
        // never allocate while a stripe has a buffer, busy or not
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < STRIPES; i++) {
                Stripe s = stripes[(start + i) & (STRIPES - 1)];
                if (!s.lock(pass == 1)) {
                    continue;
                }
                try {
                    if (s.size > 0) {
                        ByteBuffer b = s.stack[--s.size];
                        s.stack[s.size] = null;
                        return b.clear();
                    }
                } finally {
                    s.lock.unlock();
                }
            }
        }
        return ByteBuffer.allocateDirect(bufferSize);
    }

    void release(ByteBuffer buffer) {
        int start = home();
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < STRIPES; i++) {
                Stripe s = stripes[(start + i) & (STRIPES - 1)];
                if (!s.lock(pass == 1)) {
                    continue;
                }
                try {
                    if (s.size < s.stack.length) {
                        s.stack[s.size++] = buffer;
                        return;
                    }
                } finally {
                    s.lock.unlock();
                }
            }
        }
        // every stripe full: more buffers are out than the pool keeps; let the GC have this one
    }

    /** Buffers held by the pool now (for tests and the curious). */
    int pooled() {
        int n = 0;
        for (Stripe s : stripes) {
            s.lock.lock();
            try {
                n += s.size;
            } finally {
                s.lock.unlock();
            }
        }
        return n;
    }

    /** Threads spread over the stripes by id, so uncontended threads mostly meet their own stripe. */
    private static int home() {
        long id = Thread.currentThread().threadId();
        return (int) (id ^ (id >>> 16)) & (STRIPES - 1);
    }
}
