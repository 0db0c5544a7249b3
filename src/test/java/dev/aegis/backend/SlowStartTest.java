package dev.aegis.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.BackendPool.ResolvedBackend;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code load_balancing.slow_start}: a backend that turns healthy or joins ramps from 10 % to its
 * full share. Time is a clock the test moves (no sleeping); shares are counted connections.
 * Connections are held open, up to {@link #OPEN} at once (the oldest closes first), as steady
 * traffic would, so least connections sees real loads.
 */
class SlowStartTest {

    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(5, Duration.ofSeconds(30));
    private static final Duration SLOW_START = Duration.ofSeconds(100);
    private static final int OPEN = 30;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Deque<Backend> open = new ArrayDeque<>();

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    void aBackendThatTurnsHealthyGetsUnderThirtyPercentInTheFirstFifthAndItsFullShareAfter(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, SLOW_START, 3);
        Backend cold = pool.current().backends().get(2);
        cold.setHealthy(false);
        connect(pool, 300, 0, null); // the other two carry the traffic meanwhile
        cold.setHealthy(true);

        // the first fifth of slow_start: 1,000 connections spread over 20 s
        double early = connect(pool, 1000, SLOW_START.dividedBy(5).toNanos() / 1000, cold);
        assertTrue(early < 0.30, algorithm + ": " + early + " of the first fifth's connections");
        assertTrue(early > 0.02, algorithm + ": ramps from 10 %, is not left out: " + early);

        // the second fifth: warmer, more
        double later = connect(pool, 1000, SLOW_START.dividedBy(5).toNanos() / 1000, cold);
        assertTrue(later > early, algorithm + ": " + later + " after " + early);

        now.set(now.get() + SLOW_START.toNanos()); // past the ramp
        double after = connect(pool, 3000, 1_000_000, cold);
        assertEquals(1.0 / 3, after, 0.03, algorithm + ": its full share after slow_start");
    }

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    void aBackendAddedAtRunTimeOrByAReloadRampsUp(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, SLOW_START, 2);
        assertTrue(pool.add(entry(2, 100)));
        Backend added = pool.current().find("127.0.0.1:3002");
        assertTrue(connect(pool, 1000, SLOW_START.dividedBy(5).toNanos() / 1000, added) < 0.30);

        List<ResolvedBackend> withFourth = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            withFourth.add(entry(i, 100));
        }
        now.set(now.get() + SLOW_START.toNanos());
        pool.reconfigure(withFourth, balancing(algorithm, SLOW_START), CIRCUIT);
        Backend reloaded = pool.current().find("127.0.0.1:3003");
        assertTrue(connect(pool, 1000, SLOW_START.dividedBy(5).toNanos() / 1000, reloaded) < 0.25 * 0.30);
        now.set(now.get() + SLOW_START.toNanos());
        assertEquals(0.25, connect(pool, 4000, 0, reloaded), 0.03, "a full quarter once warm");
        assertEquals(0.25, connect(pool, 4000, 0, added), 0.03);
    }

    @Test
    void theWeightedAlgorithmRampsTheEffectiveWeightNotTheShareOfTurns() {
        // weights 300 and 100: the light one warming at 10 % (+ 900 * 0.1 % at most) of 100
        BackendPool pool = new BackendPool("tcp", List.of(entry(0, 300), entry(1, 100)),
                balancing(Algorithm.WEIGHTED, SLOW_START), CIRCUIT, Balancers::create, now::get);
        Backend light = pool.current().backends().get(1);
        light.setHealthy(false);
        light.setHealthy(true);
        double share = connect(pool, 4000, 0, light); // the clock stands still: warmth 10 %
        assertEquals(10.0 / 310, share, 0.01);
    }

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    void withoutSlowStartARecoveredBackendGetsItsFullShareAtOnce(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, Duration.ZERO, 3);
        Backend b = pool.current().backends().get(2);
        b.setHealthy(false);
        b.setHealthy(true);
        assertEquals(1.0 / 3, connect(pool, 3000, 0, b), 0.03);
    }

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    void thePoolsFirstBackendsAreWarmAtOnce(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, SLOW_START, 3);
        assertEquals(1.0 / 3, connect(pool, 3000, 0, pool.current().backends().get(0)), 0.03);
    }

    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    void slowStartNeverTurnsAClientAway(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, SLOW_START, 2);
        List<Backend> b = pool.current().backends();
        b.forEach(x -> x.setHealthy(false));
        b.forEach(x -> x.setHealthy(true)); // both warming at 10 %
        for (int i = 0; i < 200; i++) {
            assertNotNull(pool.current().select(i, Tried.NONE), "pick " + i);
        }
        b.get(0).setHealthy(false); // the only one left is warming
        for (int i = 0; i < 200; i++) {
            assertEquals(b.get(1), pool.current().select(i, Tried.NONE), "pick " + i);
        }
    }

    @Test
    void consistentHashIsNotRamped() {
        // Stickiness (and agreement between instances) over gradual warming: see Balancers.create
        BackendPool pool = pool(Algorithm.CONSISTENT_HASH, SLOW_START, 3);
        Backend b = pool.current().backends().get(2);
        List<Backend> before = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            before.add(pool.current().select(i * 0x9E3779B9, Tried.NONE));
        }
        b.setHealthy(false);
        b.setHealthy(true);
        for (int i = 0; i < 300; i++) {
            assertEquals(before.get(i), pool.current().select(i * 0x9E3779B9, Tried.NONE), "client " + i);
        }
    }

    @Test
    void warmthGrowsLinearlyFromTenPercent() {
        BackendPool pool = pool(Algorithm.ROUND_ROBIN, SLOW_START, 1);
        Backend b = pool.current().backends().get(0);
        long ramp = SLOW_START.toNanos();
        assertEquals(1000, b.warmth(ramp));
        b.startWarming();
        assertEquals(100, b.warmth(ramp));
        now.addAndGet(ramp / 2);
        assertEquals(550, b.warmth(ramp));
        assertEquals(1000, b.warmth(0), "slow_start 0: always full");
        now.addAndGet(ramp / 2);
        assertEquals(1000, b.warmth(ramp));
        now.addAndGet(-ramp); // warm is warm: the ramp is over, a clock read no longer matters
        assertEquals(1000, b.warmth(ramp));
    }

    /**
     * Opens {@code count} connections, moving the clock {@code step} nanoseconds before each, and
     * returns the share that went to {@code watched}.
     */
    private double connect(BackendPool pool, int count, long step, Backend watched) {
        int hits = 0;
        for (int i = 0; i < count; i++) {
            now.addAndGet(step);
            Backend b = pool.current().select(i * 0x9E3779B9, Tried.NONE);
            assertNotNull(b);
            assertTrue(b.tryAcquire());
            open.addLast(b);
            if (open.size() > OPEN) {
                open.removeFirst().release();
            }
            if (b == watched) {
                hits++;
            }
        }
        return hits / (double) count;
    }

    private BackendPool pool(Algorithm algorithm, Duration slowStart, int size) {
        List<ResolvedBackend> entries = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            entries.add(entry(i, 100));
        }
        return new BackendPool("tcp", entries, balancing(algorithm, slowStart), CIRCUIT, Balancers::create, now::get);
    }

    private static LoadBalancingConfig balancing(Algorithm algorithm, Duration slowStart) {
        return new LoadBalancingConfig(algorithm, false, 0, slowStart);
    }

    private static ResolvedBackend entry(int i, int weight) {
        return new ResolvedBackend(new BackendConfig(new HostPort("127.0.0.1", 3000 + i), weight, 0, Optional.empty()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000 + i));
    }
}
