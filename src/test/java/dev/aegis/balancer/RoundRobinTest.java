package dev.aegis.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class RoundRobinTest {

    private final List<Backend> backends = TestBackends.equal(3);
    private final Backend a = backends.get(0);
    private final Backend b = backends.get(1);
    private final Backend c = backends.get(2);
    private final RoundRobin balancer = new RoundRobin(backends);

    @Test
    void rotatesExactlyInConfigOrder() {
        List<Backend> picks = picks(9);
        assertEquals(List.of(a, b, c, a, b, c, a, b, c), picks);
    }

    @Test
    void skipsAnUnhealthyBackendAndAlternatesTheRest() {
        b.setHealthy(false);
        assertEquals(List.of(a, c, a, c, a, c), picks(6));
        b.setHealthy(true);
        assertEquals(List.of(a, b, c), picks(3));
    }

    @Test
    void skipsADrainingBackend() {
        a.markDraining();
        assertEquals(List.of(b, c, b, c), picks(4));
    }

    @Test
    void skipsBackendsAlreadyTried() {
        Tried tried = new Tried(3);
        tried.add(a);
        tried.add(c);
        for (int i = 0; i < 5; i++) {
            assertSame(b, balancer.select(0, tried));
        }
    }

    @Test
    void returnsNullWhenNoBackendIsAvailable() {
        a.setHealthy(false);
        b.markDraining();
        Tried tried = new Tried(1);
        tried.add(c);
        assertNull(balancer.select(0, tried));
        assertSame(c, balancer.select(0, Tried.NONE));
    }

    @Test
    void returnsNullForAnEmptyPool() {
        assertNull(new RoundRobin(List.of()).select(0, Tried.NONE));
    }

    @Test
    void spreadsExactlyEvenlyOverConcurrentPickers() throws Exception {
        List<Backend> four = TestBackends.equal(4);
        RoundRobin shared = new RoundRobin(four);
        int threads = 8;
        int perThread = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<int[]>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    int[] counts = new int[four.size()];
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        counts[four.indexOf(shared.select(0, Tried.NONE))]++;
                    }
                    return counts;
                }));
            }
            start.countDown();
            int[] total = new int[four.size()];
            for (Future<int[]> f : results) {
                int[] counts = f.get();
                for (int i = 0; i < total.length; i++) {
                    total[i] += counts[i];
                }
            }
            for (int count : total) {
                assertEquals(threads * perThread / four.size(), count);
            }
        }
    }

    private List<Backend> picks(int count) {
        List<Backend> picks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            picks.add(balancer.select(i, Tried.NONE));
        }
        return picks;
    }
}
