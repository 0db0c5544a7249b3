package dev.aegis.tcp;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded, lock-free pool of direct buffers of one size. Direct buffers let a blocking
 * SocketChannel read and write without the JDK copying through a temporary buffer, but they
 * are expensive to allocate and free, so connections borrow them instead.
 *
 * <p>The pool is an array of slots: {@link #acquire()} empties a slot with getAndSet,
 * {@link #release} fills an empty one with compareAndSet. Both probe at most {@link #PROBES}
 * slots from a random start, so their cost stays constant however large the pool: when no
 * probed slot has a buffer a new one is allocated, and when no probed slot is free the returned
 * buffer is dropped for the GC. The pool never blocks and, in steady state, never allocates.
 */
final class BufferPool {

    private static final int PROBES = 8;

    private final int bufferSize;
    private final AtomicReferenceArray<ByteBuffer> slots;

    BufferPool(int bufferSize, int capacity) {
        this.bufferSize = bufferSize;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    int bufferSize() {
        return bufferSize;
    }

    ByteBuffer acquire() {
        int n = slots.length();
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < Math.min(n, PROBES); i++) {
            int slot = (start + i) % n;
            if (slots.get(slot) != null) {
                ByteBuffer b = slots.getAndSet(slot, null);
                if (b != null) {
                    return b.clear();
                }
            }
        }
        return ByteBuffer.allocateDirect(bufferSize);
    }

    void release(ByteBuffer buffer) {
        int n = slots.length();
        int start = ThreadLocalRandom.current().nextInt(n);
        for (int i = 0; i < Math.min(n, PROBES); i++) {
            int slot = (start + i) % n;
            if (slots.get(slot) == null && slots.compareAndSet(slot, null, buffer)) {
                return;
            }
        }
        // pool full: let the GC free it
    }
}
