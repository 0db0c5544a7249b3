package dev.aegis.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeastConnectionsTest {

    private final List<Backend> backends = TestBackends.equal(3);
    private final Backend a = backends.get(0);
    private final Backend b = backends.get(1);
    private final Backend c = backends.get(2);
    private final LeastConnections balancer = new LeastConnections(backends);

    @Test
    void picksTheBackendWithFewestOpenConnections() {
        hold(a, 3);
        hold(b, 1);
        hold(c, 2);
        for (int i = 0; i < 5; i++) {
            assertSame(b, balancer.select(i, Tried.NONE));
        }
        b.release();
        hold(a, -2); // a now 1, b 0, c 2
        assertSame(b, balancer.select(0, Tried.NONE));
    }

    @Test
    void newConnectionsFillTheLeastLoadedFirst() {
        hold(a, 2);
        List<Backend> picks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Backend chosen = balancer.select(i, Tried.NONE);
            assertTrue(chosen.tryAcquire());
            picks.add(chosen);
        }
        // b and c catch up with a (2 each) before a gets anything, then all three share.
        assertEquals(2, picks.subList(0, 4).stream().filter(x -> x == b).count());
        assertEquals(2, picks.subList(0, 4).stream().filter(x -> x == c).count());
        int[] loads = {a.activeConnections(), b.activeConnections(), c.activeConnections()};
        assertEquals(8, loads[0] + loads[1] + loads[2]);
        int max = Math.max(loads[0], Math.max(loads[1], loads[2]));
        int min = Math.min(loads[0], Math.min(loads[1], loads[2]));
        assertTrue(max - min <= 1, Arrays.toString(loads));
    }

    @Test
    void alternatesBetweenEquallyLoadedBackends() {
        hold(b, 1); // a and c tie at 0, with the busier b between them
        List<Backend> picks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            picks.add(balancer.select(i, Tried.NONE));
        }
        assertEquals(List.of(a, c, a, c, a, c), picks);
    }

    @Test
    void skipsUnavailableAndTriedBackendsEvenWhenIdle() {
        hold(b, 5);
        hold(c, 5);
        a.setHealthy(false);
        Tried tried = new Tried(2);
        tried.add(b);
        assertSame(c, balancer.select(0, tried));
        tried.add(c);
        assertNull(balancer.select(0, tried));
    }

    @Test
    void skipsABackendAtItsConnectionLimit() {
        Backend limited = TestBackends.backend(7, 100, 1);
        Backend busy = TestBackends.backend(8, 100);
        LeastConnections pair = new LeastConnections(List.of(limited, busy));
        hold(busy, 4);
        assertSame(limited, pair.select(0, Tried.NONE));
        assertTrue(limited.tryAcquire());
        assertSame(busy, pair.select(0, Tried.NONE));
    }

    private static void hold(Backend backend, int connections) {
        for (int i = 0; i < connections; i++) {
            assertTrue(backend.tryAcquire());
        }
        for (int i = 0; i > connections; i--) {
            backend.release();
        }
    }
}
