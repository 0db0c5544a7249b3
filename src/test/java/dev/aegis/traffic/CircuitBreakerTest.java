package dev.aegis.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.traffic.CircuitBreaker.Phase;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private static final Duration OPEN_FOR = Duration.ofSeconds(30);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final CircuitBreaker breaker = new CircuitBreaker(new CircuitBreakerConfig(3, OPEN_FOR), now::get);

    private void failTimes(int n) {
        for (int i = 0; i < n; i++) {
            breaker.onFailure();
        }
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void staysClosedBelowTheErrorThreshold() {
        failTimes(2);
        assertEquals(Phase.CLOSED, breaker.phase());
        assertEquals(2, breaker.consecutiveFailures());
        assertTrue(breaker.tryAcquire());
        assertTrue(breaker.allowsTraffic());
    }

    @Test
    void opensAfterErrorThresholdConsecutiveFailures() {
        failTimes(3);
        assertEquals(Phase.OPEN, breaker.phase());
        assertFalse(breaker.allowsTraffic());
        assertFalse(breaker.tryAcquire());
    }

    @Test
    void aSuccessResetsTheFailureCount() {
        failTimes(2);
        breaker.onSuccess();
        assertEquals(0, breaker.consecutiveFailures());
        failTimes(2);
        assertEquals(Phase.CLOSED, breaker.phase());
        breaker.onFailure();
        assertEquals(Phase.OPEN, breaker.phase());
    }

    @Test
    void rejectsUntilTheTimeoutHasPassed() {
        failTimes(3);
        advance(OPEN_FOR.minusNanos(1));
        assertFalse(breaker.tryAcquire());
        assertFalse(breaker.allowsTraffic());
        assertEquals(Phase.OPEN, breaker.phase());
        advance(Duration.ofNanos(1));
        assertTrue(breaker.allowsTraffic());
        assertEquals(Phase.HALF_OPEN, breaker.phase());
    }

    @Test
    void letsExactlyOneTrialThroughAfterTheTimeout() {
        failTimes(3);
        advance(OPEN_FOR);
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
        assertFalse(breaker.allowsTraffic());
        assertEquals(Phase.HALF_OPEN, breaker.phase());
    }

    @Test
    void letsExactlyOneTrialThroughWhenManyThreadsRaceForIt() throws Exception {
        failTimes(3);
        advance(OPEN_FOR);
        AtomicInteger winners = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 1000; i++) {
                        if (breaker.tryAcquire()) {
                            winners.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, winners.get());
    }

    @Test
    void aSuccessfulTrialClosesTheCircuit() {
        failTimes(3);
        advance(OPEN_FOR);
        assertTrue(breaker.tryAcquire());
        breaker.onSuccess();
        assertEquals(Phase.CLOSED, breaker.phase());
        assertEquals(0, breaker.consecutiveFailures());
        assertTrue(breaker.tryAcquire());
        assertTrue(breaker.tryAcquire());
    }

    @Test
    void aFailedTrialReopensTheCircuitForAnotherTimeout() {
        failTimes(3);
        advance(OPEN_FOR);
        assertTrue(breaker.tryAcquire());
        breaker.onFailure();
        assertEquals(Phase.OPEN, breaker.phase());
        assertFalse(breaker.tryAcquire());
        advance(OPEN_FOR.minusNanos(1));
        assertFalse(breaker.tryAcquire());
        advance(Duration.ofNanos(1));
        assertTrue(breaker.tryAcquire());
    }

    @Test
    void aLateSuccessWhileOpenDoesNotCloseTheCircuit() {
        failTimes(3);
        breaker.onSuccess();
        assertEquals(Phase.OPEN, breaker.phase());
        assertFalse(breaker.tryAcquire());
    }

    @Test
    void aTrialThatNeverReportsBackDoesNotWedgeTheCircuit() {
        failTimes(3);
        advance(OPEN_FOR);
        assertTrue(breaker.tryAcquire()); // the trial's connection is lost without a verdict
        advance(OPEN_FOR.minusNanos(1));
        assertFalse(breaker.tryAcquire());
        advance(Duration.ofNanos(1));
        assertTrue(breaker.allowsTraffic());
        assertTrue(breaker.tryAcquire());
        assertFalse(breaker.tryAcquire());
    }

    @Test
    void aShortOpenTimeoutStillGivesTheTrialTheFloorTimeToReport() {
        AtomicLong clock = new AtomicLong();
        CircuitBreaker quick = new CircuitBreaker(new CircuitBreakerConfig(1, Duration.ofMillis(100)), clock::get);
        quick.onFailure();
        clock.addAndGet(Duration.ofMillis(100).toNanos());
        assertTrue(quick.tryAcquire());
        clock.addAndGet(CircuitBreaker.TRIAL_VERDICT_FLOOR_NANOS - 1);
        assertFalse(quick.tryAcquire());
        clock.addAndGet(1);
        assertTrue(quick.tryAcquire());
    }

    @Test
    void backendTryAcquireRespectsAnOpenCircuitAndGivesItsSlotBack() {
        Backend backend = backend(new CircuitBreakerConfig(2, Duration.ofHours(1)));
        assertTrue(backend.tryAcquire());
        backend.release();
        backend.recordFailure();
        backend.recordFailure();
        assertFalse(backend.isAvailable());
        assertFalse(backend.tryAcquire());
        assertEquals(0, backend.activeConnections());
        assertEquals(2, backend.failedConnections());
        assertEquals(Phase.OPEN, backend.circuit().phase());
    }

    @Test
    void backendTryAcquireLetsOneTrialThroughAndItsSuccessClosesTheCircuit() {
        Backend backend = backend(new CircuitBreakerConfig(1, Duration.ZERO));
        backend.recordFailure();
        assertTrue(backend.tryAcquire(), "the open timeout (0) has passed: one trial");
        assertFalse(backend.tryAcquire(), "only one trial while half-open");
        assertFalse(backend.isAvailable());
        assertEquals(1, backend.activeConnections());
        backend.recordSuccess();
        assertTrue(backend.isAvailable());
        assertTrue(backend.tryAcquire());
        assertEquals(2, backend.activeConnections());
    }

    private static Backend backend(CircuitBreakerConfig circuit) {
        BackendConfig config = new BackendConfig(new HostPort("127.0.0.1", 3001), 100, 0, Optional.empty());
        return new Backend(config, new InetSocketAddress("127.0.0.1", 3001), circuit);
    }
}
