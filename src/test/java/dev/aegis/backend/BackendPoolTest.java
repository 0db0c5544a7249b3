package dev.aegis.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BackendPoolTest {

    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(5, Duration.ofSeconds(30));
    private static final LoadBalancingConfig ROUND_ROBIN = new LoadBalancingConfig(Algorithm.ROUND_ROBIN, false);

    private final BackendPool pool = new BackendPool("tcp", List.of(entry(0, 100), entry(1, 100)), ROUND_ROBIN, CIRCUIT, Balancers::create);

    @Test
    void reconfigureKeepsTheBackendObjectOfAKeptAddress() {
        Backend kept = pool.current().find("127.0.0.1:3000");
        Backend leaving = pool.current().find("127.0.0.1:3001");
        assertTrue(kept.tryAcquire());
        kept.setHealthy(false);

        List<Backend> removed = pool.reconfigure(List.of(entry(0, 300), entry(2, 100)),
                new LoadBalancingConfig(Algorithm.WEIGHTED, false), CIRCUIT);

        BackendSet next = pool.current();
        assertSame(kept, next.find("127.0.0.1:3000"));
        assertEquals(1, kept.activeConnections());
        assertEquals(1, kept.totalConnections());
        assertFalse(kept.isHealthy(), "health carries over a reload");
        assertEquals(300, kept.weight());
        assertEquals(List.of(leaving), removed);
        assertTrue(leaving.isDraining());
        assertFalse(leaving.isAvailable());
        assertNull(next.find("127.0.0.1:3001"));
        assertEquals(2, next.backends().size());
        assertSame(next.find("127.0.0.1:3002"), next.select(0, Tried.NONE), "the kept one is down");
    }

    @Test
    void aBackendAddedBackAfterRemovalStopsDraining() {
        Backend gone = pool.remove("127.0.0.1:3001");
        assertTrue(gone.isDraining());
        pool.reconfigure(List.of(entry(0, 100), entry(1, 100)), ROUND_ROBIN, CIRCUIT);
        Backend back = pool.current().find("127.0.0.1:3001");
        assertTrue(back.isAvailable());
        assertNotSame(gone, back);
    }

    @Test
    void addRejectsAnAddressAlreadyInThePool() {
        assertFalse(pool.add(entry(1, 50)));
        assertEquals(100, pool.current().find("127.0.0.1:3001").weight());
        assertTrue(pool.add(entry(5, 50)));
        assertEquals(3, pool.current().backends().size());
        assertEquals(50, pool.current().find("127.0.0.1:3005").weight());
    }

    @Test
    void removeReturnsTheBackendAndMarksItDraining() {
        Backend b = pool.current().find("127.0.0.1:3001");
        assertSame(b, pool.remove("127.0.0.1:3001"));
        assertTrue(b.isDraining());
        assertNull(pool.remove("127.0.0.1:3001"));
        assertEquals(1, pool.current().backends().size());
        for (int i = 0; i < 4; i++) {
            assertSame(pool.current().find("127.0.0.1:3000"), pool.current().select(i, Tried.NONE));
        }
    }

    private static ResolvedBackend entry(int i, int weight) {
        return new ResolvedBackend(new BackendConfig(new HostPort("127.0.0.1", 3000 + i), weight, 0, Optional.empty()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000 + i));
    }
}
