package dev.aegis.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BalancersTest {

    @Test
    void buildsTheConfiguredAlgorithm() {
        List<Backend> backends = TestBackends.equal(2);
        assertInstanceOf(RoundRobin.class, create(Algorithm.ROUND_ROBIN, false, backends));
        assertInstanceOf(SmoothWeighted.class, create(Algorithm.WEIGHTED, false, backends));
        assertInstanceOf(LeastConnections.class, create(Algorithm.LEAST_CONNECTIONS, false, backends));
        assertInstanceOf(ConsistentHash.class, create(Algorithm.CONSISTENT_HASH, false, backends));
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void sessionAffinityMakesEveryAlgorithmStickyPerClient(Algorithm algorithm) {
        List<Backend> backends = TestBackends.equal(4);
        Balancer balancer = create(algorithm, true, backends);
        assertInstanceOf(ConsistentHash.class, balancer);
        Set<Backend> used = new HashSet<>();
        for (int client = 0; client < 40; client++) {
            int hash = TestBackends.client(client);
            Backend first = balancer.select(hash, Tried.NONE);
            used.add(first);
            for (int i = 0; i < 20; i++) {
                assertSame(first, balancer.select(hash, Tried.NONE));
            }
        }
        assertTrue(used.size() >= 3, "clients spread over the backends: " + used);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void skipsUnhealthyDrainingWeightZeroAndTriedBackends(Algorithm algorithm) {
        List<Backend> backends = TestBackends.withWeights(100, 100, 0, 100, 100);
        Balancer balancer = create(algorithm, false, backends);
        backends.get(0).setHealthy(false);
        backends.get(1).markDraining();
        Tried tried = new Tried(1);
        tried.add(backends.get(3));
        for (int i = 0; i < 50; i++) {
            assertSame(backends.get(4), balancer.select(TestBackends.client(i), tried));
        }
        backends.get(4).setHealthy(false);
        assertSame(backends.get(3), balancer.select(TestBackends.client(0), Tried.NONE));
        assertNull(balancer.select(TestBackends.client(0), tried));
        assertNull(create(algorithm, false, List.of()).select(0, Tried.NONE));
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    @Tag("allocation")
    void allocatesNothingPerPick(Algorithm algorithm) {
        List<Backend> backends = TestBackends.withWeights(500, 100, 100, 300, 0);
        backends.get(1).setHealthy(false); // exercise the skipping paths too
        Balancer balancer = create(algorithm, false, backends);
        Tried tried = new Tried(2);
        tried.add(backends.get(2));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().threadId();
        long sink = picks(balancer, tried, 100_000); // warm-up: let the JIT compile select
        long before = threads.getThreadAllocatedBytes(threadId);
        sink += picks(balancer, tried, 100_000);
        long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        assertTrue(sink > 0);
        // One object per pick would be at least 1.6 MB; allow the measurement's own noise.
        assertTrue(allocated < 1024, allocated + " bytes allocated by 100,000 picks");
    }

    /** Slow start on, one backend warming (so the clock is read and turns are declined). */
    @ParameterizedTest
    @EnumSource(value = Algorithm.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_CONNECTIONS"})
    @Tag("allocation")
    void allocatesNothingPerPickWhileABackendWarms(Algorithm algorithm) {
        List<Backend> backends = TestBackends.withWeights(500, 100, 100, 300);
        backends.get(3).setHealthy(false);
        backends.get(3).setHealthy(true); // warming for the next hour
        Balancer balancer = Balancers.create(
                new LoadBalancingConfig(algorithm, false, 0, java.time.Duration.ofHours(1)), backends);
        Tried tried = new Tried(2);
        tried.add(backends.get(2));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().threadId();
        long sink = picks(balancer, tried, 100_000);
        long before = threads.getThreadAllocatedBytes(threadId);
        sink += picks(balancer, tried, 100_000);
        long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        assertTrue(sink > 0);
        assertTrue(allocated < 1024, allocated + " bytes allocated by 100,000 picks");
    }

    @Test
    void hashesClientAddressesDeterministicallyAndApart() throws Exception {
        InetAddress v4 = InetAddress.getByName("192.0.2.10");
        assertEquals(Balancers.hashClient(v4), Balancers.hashClient(InetAddress.getByName("192.0.2.10")));
        assertNotEquals(Balancers.hashClient(v4), Balancers.hashClient(InetAddress.getByName("192.0.2.11")));
        InetAddress v6 = InetAddress.getByName("2001:db8::1");
        assertNotEquals(Balancers.hashClient(v6), Balancers.hashClient(InetAddress.getByName("2001:db8::2")));
        // Neighbouring addresses differ in every byte of the hash, not just the last bits.
        int changed = Balancers.hashClient(v4) ^ Balancers.hashClient(InetAddress.getByName("192.0.2.11"));
        assertTrue(Integer.bitCount(changed) >= 8, Integer.toBinaryString(changed));
    }

    @Test
    void retriesOfEveryAlgorithmGoElsewhere() {
        for (Algorithm algorithm : Algorithm.values()) {
            List<Backend> backends = TestBackends.equal(3);
            Balancer balancer = create(algorithm, false, backends);
            Tried tried = new Tried(3);
            Set<Backend> seen = new HashSet<>();
            for (int attempt = 0; attempt < 3; attempt++) {
                Backend b = balancer.select(TestBackends.client(9), tried);
                assertTrue(seen.add(b), algorithm + " repeated " + b);
                tried.add(b);
            }
            assertNull(balancer.select(TestBackends.client(9), tried), algorithm.name());
            assertNotSame(null, balancer.select(TestBackends.client(9), Tried.NONE));
        }
    }

    private static long picks(Balancer balancer, Tried tried, int count) {
        long sum = 0;
        for (int i = 0; i < count; i++) {
            Backend b = balancer.select(i * 0x9E3779B9, (i & 1) == 0 ? Tried.NONE : tried);
            if (b != null) {
                sum += b.weight();
            }
        }
        return sum;
    }

    private static Balancer create(Algorithm algorithm, boolean affinity, List<Backend> backends) {
        return Balancers.create(new LoadBalancingConfig(algorithm, affinity), backends);
    }
}
