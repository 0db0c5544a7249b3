package dev.aegis.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void reusesEveryReturnedBufferInsteadOfAllocating() {
        BufferPool pool = new BufferPool(1024, 64);
        List<ByteBuffer> first = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            first.add(pool.acquire());
        }
        first.forEach(pool::release);
        assertEquals(50, pool.pooled());
        Set<ByteBuffer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.addAll(first);
        for (int i = 0; i < 50; i++) {
            ByteBuffer b = pool.acquire();
            assertTrue(seen.contains(b), "a new buffer was allocated while the pool held returned ones");
            assertEquals(1024, b.capacity());
            assertEquals(0, b.position());
        }
        assertEquals(0, pool.pooled());
    }

    @Test
    void keepsAtMostItsCapacity() {
        BufferPool pool = new BufferPool(16, 16);
        List<ByteBuffer> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            out.add(pool.acquire());
        }
        out.forEach(pool::release);
        assertEquals(16, pool.pooled());
    }

    @Test
    void aBufferIsNeverHandedToTwoBorrowersUnderContention() throws Exception {
        BufferPool pool = new BufferPool(64, 32);
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(threads.submit(() -> {
                    for (int i = 0; i < 100_000; i++) {
                        ByteBuffer b = pool.acquire();
                        // mark it as ours; a second borrower would overwrite the mark
                        long mark = Thread.currentThread().threadId() * 1_000_000L + i;
                        b.putLong(0, mark);
                        if (b.getLong(0) != mark) {
                            return false;
                        }
                        pool.release(b);
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get());
            }
        }
        assertTrue(pool.pooled() <= 32);
    }

    @Test
    void lifoHandsBackTheWarmestBuffer() {
        BufferPool pool = new BufferPool(8, 8);
        ByteBuffer b = pool.acquire();
        pool.release(b);
        assertSame(b, pool.acquire());
    }
}
