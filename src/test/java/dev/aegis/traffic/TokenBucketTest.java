package dev.aegis.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative

    @Test
    void givesTheBurstAtOnceThenOneTokenPerInterval() {
        TokenBucket bucket = TokenBucket.of(10, 5, now::get); // one token per 100 ms
        for (int i = 0; i < 5; i++) {
            assertTrue(bucket.tryTake(), "token " + i + " of the burst");
        }
        assertFalse(bucket.tryTake());
        now.addAndGet(99 * MS);
        assertFalse(bucket.tryTake());
        now.addAndGet(MS);
        assertTrue(bucket.tryTake());
        assertFalse(bucket.tryTake());
        now.addAndGet(350 * MS);
        assertEquals(3, bucket.available());
        assertTrue(bucket.tryTake(3));
        assertFalse(bucket.tryTake());
    }

    @Test
    void neverHoldsMoreThanTheBurstAfterALongIdle() {
        TokenBucket bucket = TokenBucket.of(10, 5, now::get);
        now.addAndGet(Duration.ofHours(1).toNanos());
        assertEquals(5, bucket.available());
        assertTrue(bucket.isFull());
        assertTrue(bucket.tryTake(5));
        assertFalse(bucket.tryTake());
    }

    @Test
    void takesSeveralTokensAllOrNothing() {
        TokenBucket bucket = TokenBucket.of(1000, 1000, now::get); // bytes: 1 token per ms
        assertTrue(bucket.tryTake(600));
        assertFalse(bucket.tryTake(500), "only 400 left");
        assertEquals(400, bucket.available());
        assertTrue(bucket.tryTake(400));
        assertFalse(bucket.tryTake(1001), "more than the burst never fits");
        now.addAndGet(Duration.ofHours(1).toNanos());
        assertFalse(bucket.tryTake(1001));
        assertTrue(bucket.tryTake(0));
    }

    @Test
    void reportsTheWaitForTokensWithoutTakingThem() {
        TokenBucket bucket = TokenBucket.of(1000, 100, now::get);
        assertEquals(0, bucket.nanosUntil(100));
        assertTrue(bucket.tryTake(100));
        assertEquals(30 * MS, bucket.nanosUntil(30));
        assertEquals(30 * MS, bucket.nanosUntil(30), "asking takes nothing");
        now.addAndGet(10 * MS);
        assertEquals(20 * MS, bucket.nanosUntil(30));
        assertEquals(10, bucket.available());
    }

    @Test
    void goesIntoDebtAndReturnsTheDelayThatPaysItBack() {
        TokenBucket bucket = TokenBucket.of(1000, 100, now::get); // 1 ms per token
        assertEquals(0, bucket.acquireDelayNanos(60), "within the burst: go now");
        assertEquals(0, bucket.acquireDelayNanos(40));
        assertEquals(50 * MS, bucket.acquireDelayNanos(50), "50 tokens of debt");
        assertEquals(250 * MS, bucket.acquireDelayNanos(200), "queues behind the earlier debt");
        assertEquals(0, bucket.available());
        assertFalse(bucket.tryTake());
        now.addAndGet(250 * MS); // the caller parked as told: debt paid, bucket empty
        assertEquals(0, bucket.available());
        assertEquals(MS, bucket.acquireDelayNanos(1));
        now.addAndGet(1000 * MS);
        assertEquals(100, bucket.available());
    }

    @Test
    void aChunkLargerThanTheBurstWaitsForItsShareOfTheRate() {
        TokenBucket bucket = TokenBucket.of(1000, 10, now::get);
        assertEquals(64 * MS - 10 * MS, bucket.acquireDelayNanos(64));
    }

    @Test
    void keepsExactTimeOverManyRoundsOfDebt() {
        TokenBucket bucket = TokenBucket.of(3, 1, now::get); // 333,333,333.3 ns per token
        long totalWait = 0;
        for (int i = 0; i < 3000; i++) {
            long wait = bucket.acquireDelayNanos(3);
            totalWait += wait;
            now.addAndGet(wait);
        }
        // 9000 tokens at 3/s = 3000 s, less the one-token burst; rounding stays below 1 ns per call
        long expected = Duration.ofSeconds(3000).toNanos() - 333_333_333L;
        assertTrue(Math.abs(totalWait - expected) <= 3000, "waited " + totalWait + ", expected " + expected);
    }

    @Test
    void rateZeroIsTheSharedUnlimitedBucket() {
        TokenBucket bucket = TokenBucket.of(0, 10, now::get);
        assertSame(TokenBucket.UNLIMITED, bucket);
        assertTrue(bucket.isUnlimited());
        for (int i = 0; i < 1000; i++) {
            assertTrue(bucket.tryTake(1_000_000));
        }
        assertEquals(0, bucket.acquireDelayNanos(Long.MAX_VALUE));
        assertEquals(0, bucket.nanosUntil(Long.MAX_VALUE));
        assertSame(TokenBucket.UNLIMITED, TokenBucket.of(-1, 1));
    }

    @Test
    void isFullAgainOnlyAfterBurstOverRateSecondsOfQuiet() {
        TokenBucket bucket = TokenBucket.of(10, 5, now::get);
        assertTrue(bucket.isFull());
        assertTrue(bucket.tryTake());
        assertFalse(bucket.isFull());
        now.addAndGet(99 * MS);
        assertFalse(bucket.isFull());
        now.addAndGet(MS);
        assertTrue(bucket.isFull());
    }

    @Test
    void hugeRequestsDoNotOverflowTheVirtualTime() {
        TokenBucket bucket = TokenBucket.of(1, 1, now::get);
        assertFalse(bucket.tryTake(Long.MAX_VALUE));
        assertTrue(bucket.tryTake());
        assertTrue(bucket.acquireDelayNanos(Long.MAX_VALUE) > 0);
        assertTrue(bucket.nanosUntil(1) > 0);
        assertFalse(bucket.tryTake());
    }

    @Test
    void fourThreadsHammeringAFrozenClockGetExactlyTheBurst() throws Exception {
        TokenBucket bucket = TokenBucket.of(1, 10_000, now::get);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Long>> results = new ArrayList<>();
        try {
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    long taken = 0;
                    for (int i = 0; i < 20_000; i++) {
                        if (bucket.tryTake()) {
                            taken++;
                        }
                    }
                    return taken;
                }));
            }
            start.countDown();
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(10_000, total);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void admitsTheBurstThenExactlyTheRateOverTwoSecondsOfClock() {
        TokenBucket bucket = TokenBucket.of(200, 20, now::get);
        long admitted = 0;
        for (int ms = 0; ms <= 2000; ms++) { // a caller trying every millisecond for two seconds
            while (bucket.tryTake()) {
                admitted++;
            }
            now.addAndGet(MS);
        }
        assertEquals(20 + 200 * 2, admitted, "the burst, then one token per 5 ms");
    }

    @Test
    @Tag("allocation")
    void tryTakeAllocatesNothingInSteadyState() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        TokenBucket bucket = TokenBucket.of(1_000_000, 1000);
        long sink = 0;
        for (int i = 0; i < 200_000; i++) { // warm-up: let the JIT compile the path
            sink += bucket.tryTake() ? 1 : 0;
            sink += bucket.tryTake(2) ? 1 : 0;
        }
        long id = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            sink += bucket.tryTake() ? 1 : 0;
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(sink > 0);
        assertTrue(allocated < 1024, "tryTake allocated " + allocated + " bytes over 100,000 calls");
    }
}
