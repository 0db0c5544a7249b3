package dev.aegis.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SmoothWeightedTest {

    @Test
    void followsNginxSequenceForFiveOneOne() {
        List<Backend> backends = TestBackends.withWeights(5, 1, 1);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        String cycle = "aabacaa";
        assertEquals(cycle.repeat(3), letters(backends, balancer, 21));
    }

    @Test
    void givesExactlyThreeToOneAndNeverMoreThanThreeInARow() {
        List<Backend> backends = TestBackends.withWeights(300, 100);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        String picks = letters(backends, balancer, 400);
        assertEquals(300, picks.chars().filter(ch -> ch == 'a').count());
        assertEquals(100, picks.chars().filter(ch -> ch == 'b').count());
        // nginx: a a b a, repeated. Three a's per b can only be spread as runs of at most three
        // (the cycle boundary joins "a" and "a a"); a burst would be a longer run.
        assertTrue(picks.startsWith("aaba"), picks);
        assertTrue(!picks.contains("aaaa") && !picks.contains("bb"), picks);
    }

    @Test
    void matchesNginxLiveAlgorithmForUnevenWeights() {
        int[] weights = {100, 250, 30, 7};
        List<Backend> backends = TestBackends.withWeights(weights);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        long[] current = new long[weights.length];
        int total = 387;
        for (int pick = 0; pick < 1000; pick++) {
            int best = -1;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            assertSame(backends.get(best), balancer.select(0, Tried.NONE), "pick " + pick);
        }
    }

    @Test
    void neverPicksAWeightZeroBackend() {
        List<Backend> backends = TestBackends.withWeights(5, 0, 1);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        for (int i = 0; i < 600; i++) {
            assertNotSame(backends.get(1), balancer.select(i, Tried.NONE));
        }
        assertEquals(6, balancer.cycleLength());
        assertNull(new SmoothWeighted(TestBackends.withWeights(0, 0)).select(0, Tried.NONE));
    }

    @Test
    void dropsADownBackendAndKeepsTheOthersRatio() {
        List<Backend> backends = TestBackends.withWeights(5, 1, 1);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        backends.get(1).setHealthy(false);
        // The b slot of a a b a c a a drops out: a a a c a a, exactly 5:1 like nginx.
        assertEquals("aaacaa".repeat(4), letters(backends, balancer, 24));
    }

    @Test
    void walksPastLongRunsOfADownHeavyBackend() {
        List<Backend> backends = TestBackends.withWeights(10_000, 1);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        backends.get(0).setHealthy(false);
        for (int i = 0; i < 10; i++) {
            assertSame(backends.get(1), balancer.select(i, Tried.NONE));
        }
        backends.get(1).markDraining();
        assertNull(balancer.select(0, Tried.NONE));
    }

    @Test
    void respectsTried() {
        List<Backend> backends = TestBackends.withWeights(5, 1, 1);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        Tried tried = new Tried(3);
        tried.add(backends.get(0));
        for (int i = 0; i < 10; i++) {
            assertNotSame(backends.get(0), balancer.select(i, tried));
        }
        tried.add(backends.get(1));
        tried.add(backends.get(2));
        assertNull(balancer.select(0, tried));
    }

    @Test
    void scalesDownCyclesLongerThanTheLimitKeepingRatios() {
        int[] weights = new int[40];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = 9_973 - i * 3; // pairwise gcd 1, sum about 400,000
        }
        List<Backend> backends = TestBackends.withWeights(weights);
        SmoothWeighted balancer = new SmoothWeighted(backends);
        int cycle = balancer.cycleLength();
        assertTrue(cycle <= SmoothWeighted.MAX_CYCLE + weights.length, "cycle " + cycle);
        int[] counts = new int[weights.length];
        for (int i = 0; i < cycle; i++) {
            counts[backends.indexOf(balancer.select(i, Tried.NONE))]++;
        }
        double ratio = (double) counts[0] / counts[weights.length - 1];
        double expected = (double) weights[0] / weights[weights.length - 1];
        assertEquals(expected, ratio, 0.01);
    }

    @Test
    void keepsExactProportionsUnderConcurrentPickers() throws Exception {
        List<Backend> backends = TestBackends.withWeights(3, 1);
        SmoothWeighted shared = new SmoothWeighted(backends);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<int[]>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    int[] counts = new int[2];
                    start.await();
                    for (int i = 0; i < 10_000; i++) {
                        counts[backends.indexOf(shared.select(0, Tried.NONE))]++;
                    }
                    return counts;
                }));
            }
            start.countDown();
            int a = 0;
            int b = 0;
            for (Future<int[]> f : results) {
                int[] counts = f.get();
                a += counts[0];
                b += counts[1];
            }
            assertEquals(60_000, a);
            assertEquals(20_000, b);
        }
    }

    /** The picks as letters: backend 0 is 'a', 1 is 'b', ... */
    private static String letters(List<Backend> backends, Balancer balancer, int count) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < count; i++) {
            s.append((char) ('a' + backends.indexOf(balancer.select(i, Tried.NONE))));
        }
        return s.toString();
    }
}
