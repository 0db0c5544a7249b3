package dev.aegis.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsistentHashTest {

    private static final int CLIENTS = 1_000;

    private final List<Backend> backends = TestBackends.equal(4);
    private final ConsistentHash balancer = new ConsistentHash(backends);

    @Test
    void sendsTheSameClientToTheSameBackendEveryTime() {
        for (int client = 0; client < 50; client++) {
            int hash = TestBackends.client(client);
            Backend first = balancer.select(hash, Tried.NONE);
            for (int i = 0; i < 100; i++) {
                assertSame(first, balancer.select(hash, Tried.NONE));
            }
        }
    }

    @Test
    void givesEachOfFourBackendsAFairShareOfClients() {
        Map<Backend, Integer> counts = new HashMap<>();
        for (int client = 0; client < CLIENTS; client++) {
            counts.merge(balancer.select(TestBackends.client(client), Tried.NONE), 1, Integer::sum);
        }
        assertEquals(4, counts.size());
        for (int count : counts.values()) {
            assertTrue(count >= 150 && count <= 350, counts.toString());
        }
    }

    @Test
    void movesOnlyTheClientsOfARemovedBackend() {
        List<Backend> without = new ArrayList<>(backends);
        Backend removed = without.remove(2);
        ConsistentHash smaller = new ConsistentHash(without);
        int moved = 0;
        for (int client = 0; client < CLIENTS; client++) {
            int hash = TestBackends.client(client);
            Backend before = balancer.select(hash, Tried.NONE);
            Backend after = smaller.select(hash, Tried.NONE);
            if (before == removed) {
                moved++;
                assertNotSame(removed, after);
            } else {
                assertSame(before, after, "client " + client + " moved without need");
            }
        }
        assertTrue(moved >= 150 && moved <= 350, "moved " + moved);
    }

    @Test
    void keepsEveryClientWhenTheConfigOrderChanges() {
        ConsistentHash reordered = new ConsistentHash(List.of(backends.get(3), backends.get(1),
                backends.get(0), backends.get(2)));
        for (int client = 0; client < CLIENTS; client++) {
            int hash = TestBackends.client(client);
            assertSame(balancer.select(hash, Tried.NONE), reordered.select(hash, Tried.NONE));
        }
    }

    @Test
    void sendsTheClientsOfADownBackendToOneFallbackEachAndBackOnRecovery() {
        Backend down = backends.get(1);
        ConsistentHash withoutDown = new ConsistentHash(List.of(backends.get(0), backends.get(2), backends.get(3)));
        List<Integer> itsClients = new ArrayList<>();
        for (int client = 0; client < CLIENTS; client++) {
            if (balancer.select(TestBackends.client(client), Tried.NONE) == down) {
                itsClients.add(client);
            }
        }
        assertTrue(itsClients.size() > 100, "clients " + itsClients.size());
        down.setHealthy(false);
        Map<Backend, Integer> fallbacks = new HashMap<>();
        for (int client : itsClients) {
            int hash = TestBackends.client(client);
            Backend fallback = balancer.select(hash, Tried.NONE);
            assertNotSame(down, fallback);
            assertSame(fallback, balancer.select(hash, Tried.NONE));
            assertSame(withoutDown.select(hash, Tried.NONE), fallback);
            fallbacks.merge(fallback, 1, Integer::sum);
        }
        assertTrue(fallbacks.size() >= 2, "the load of a down backend spreads: " + fallbacks);
        down.setHealthy(true);
        for (int client : itsClients) {
            assertSame(down, balancer.select(TestBackends.client(client), Tried.NONE));
        }
    }

    @Test
    void retriesAClientOnADifferentBackendConsistently() {
        int hash = TestBackends.client(42);
        Backend first = balancer.select(hash, Tried.NONE);
        Tried tried = new Tried(4);
        tried.add(first);
        Backend second = balancer.select(hash, tried);
        assertNotNull(second);
        assertNotSame(first, second);
        assertSame(second, balancer.select(hash, tried));
        for (Backend b : backends) {
            if (b != first) {
                tried.add(b);
            }
        }
        assertEquals(4, tried.size());
        assertNull(balancer.select(hash, tried));
    }

    @Test
    void sharesClientsInProportionToWeight() {
        List<Backend> weighted = TestBackends.withWeights(300, 100, 0);
        ConsistentHash ring = new ConsistentHash(weighted);
        int heavy = 0;
        for (int client = 0; client < CLIENTS; client++) {
            Backend chosen = ring.select(TestBackends.client(client), Tried.NONE);
            assertNotSame(weighted.get(2), chosen);
            if (chosen == weighted.get(0)) {
                heavy++;
            }
        }
        assertTrue(heavy >= 650 && heavy <= 850, "heavy " + heavy);
        assertEquals(4 * 160, ring.ringSize());
    }

    @Test
    void returnsNullWhenNoBackendIsAvailable() {
        for (Backend b : backends) {
            b.markDraining();
        }
        assertNull(balancer.select(TestBackends.client(1), Tried.NONE));
        assertNull(new ConsistentHash(List.of()).select(7, Tried.NONE));
    }

    @Test
    void capsTheRingForHugePools() {
        int[] weights = new int[200];
        Arrays.fill(weights, 10_000);
        weights[0] = 1;
        ConsistentHash ring = new ConsistentHash(TestBackends.withWeights(weights));
        assertTrue(ring.ringSize() <= ConsistentHash.MAX_POINTS + weights.length, "size " + ring.ringSize());
    }

    /**
     * Fleets (SPEC §12): two instances build their rings from their own Backend objects, from
     * configs that may list the backends in another order, and must agree on every client.
     * 127.0.0.1:3316 and 127.0.0.1:3425 have a ring point at the same position (found by search),
     * so the owner that wins that tie must not depend on the order either.
     */
    @Test
    void twoInstancesAgreeWhateverTheOrderOfTheirBackends() {
        List<Backend> one = List.of(TestBackends.backend(316, 100), TestBackends.backend(425, 100),
                TestBackends.backend(7, 250), TestBackends.backend(8, 50));
        List<Backend> other = List.of(TestBackends.backend(8, 50), TestBackends.backend(425, 100),
                TestBackends.backend(7, 250), TestBackends.backend(316, 100));
        ConsistentHash first = new ConsistentHash(one);
        ConsistentHash second = new ConsistentHash(other);
        for (int client = 0; client < 200_000; client++) {
            int hash = client * 0x9E3779B9;
            assertEquals(first.select(hash, Tried.NONE).id(), second.select(hash, Tried.NONE).id(), "client " + client);
        }
    }
}
