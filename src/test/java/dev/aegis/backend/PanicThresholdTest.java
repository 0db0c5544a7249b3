package dev.aegis.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code load_balancing.panic_threshold}: when health is set aside, and what is still respected. */
class PanicThresholdTest {

    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(2, Duration.ofSeconds(30));

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void withTheDefaultThresholdNoHealthyBackendMeansNoBackend(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, 0, 4);
        pool.current().backends().forEach(b -> b.setHealthy(false));

        for (int hash = 0; hash < 100; hash++) {
            assertNull(pool.current().select(spread(hash), Tried.NONE));
        }
        assertFalse(pool.current().inPanic());
        assertEquals(0, pool.current().panicPicks());
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void belowTheThresholdEveryNonDrainingBackendIsEligibleAgain(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, 50, 4);
        List<Backend> b = pool.current().backends();
        b.get(1).setHealthy(false);
        b.get(2).setHealthy(false);
        b.get(3).setHealthy(false); // 1 of 4 healthy: 25 % < 50 %
        b.get(3).markDraining();

        Set<Backend> picked = picks(pool.current(), 400);

        assertTrue(pool.current().inPanic());
        assertEquals(Set.of(b.get(0), b.get(1), b.get(2)), picked, "a draining backend stays out even in panic");
        assertTrue(pool.current().panicPicks() > 0, "picks of unhealthy backends are counted");
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void panicModeStillSkipsCircuitOpenAndFullBackends(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, 50, 4);
        List<Backend> b = pool.current().backends();
        b.forEach(x -> x.setHealthy(false));
        b.get(0).recordFailure();
        b.get(0).recordFailure(); // error_threshold 2: circuit open

        Set<Backend> picked = picks(pool.current(), 400);

        assertEquals(Set.of(b.get(1), b.get(2), b.get(3)), picked);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void atOrAboveTheThresholdOnlyHealthyBackendsArePicked(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, 50, 4);
        List<Backend> b = pool.current().backends();
        b.get(3).setHealthy(false); // 3 of 4 healthy
        assertEquals(Set.of(b.get(0), b.get(1), b.get(2)), picks(pool.current(), 400));

        b.get(2).setHealthy(false); // 2 of 4 = 50 %: not fewer than the threshold
        assertEquals(Set.of(b.get(0), b.get(1)), picks(pool.current(), 400));
        assertFalse(pool.current().inPanic());
        assertEquals(0, pool.current().panicPicks());
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aHundredPercentIgnoresHealthAsSoonAsOneBackendIsDown(Algorithm algorithm) {
        BackendPool pool = pool(algorithm, 100, 4);
        List<Backend> b = pool.current().backends();
        b.get(0).setHealthy(false);

        assertEquals(Set.copyOf(b), picks(pool.current(), 400));
    }

    private static Set<Backend> picks(BackendSet set, int count) {
        Set<Backend> picked = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Backend chosen = set.select(spread(i), Tried.NONE);
            if (chosen != null) {
                picked.add(chosen);
            }
        }
        return picked;
    }

    /** Many different clients, so that consistent hashing reaches every backend too. */
    private static int spread(int i) {
        return i * 0x9E3779B9;
    }

    private static BackendPool pool(Algorithm algorithm, int panicThreshold, int size) {
        List<ResolvedBackend> entries = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            entries.add(new ResolvedBackend(new BackendConfig(new HostPort("127.0.0.1", 3000 + i), 100, 0, Optional.empty()),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000 + i)));
        }
        return new BackendPool("tcp", entries, new LoadBalancingConfig(algorithm, false, panicThreshold), CIRCUIT,
                Balancers::create);
    }
}
