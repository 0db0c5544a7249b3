package dev.aegis.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PortlessTargetTest {

    private static Backend backend(String ip, int port) throws Exception {
        return new Backend(new BackendConfig(new HostPort(ip, port), 100, 0, Optional.empty()),
                new InetSocketAddress(InetAddress.getByName(ip), port), new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
    }

    @Test
    void aBackendWithAPortIsReachedOnItsOwnPortFromEveryListener() throws Exception {
        Backend b = backend("10.0.0.5", 5432);
        assertSame(b.address(), b.targetFor(5432));
        assertSame(b.address(), b.targetFor(6000));
    }

    @Test
    void aPortlessBackendIsReachedOnTheListenersPortAndTheTargetIsReused() throws Exception {
        Backend b = backend("10.0.0.9", 0);

        InetSocketAddress t = b.targetFor(49152);

        assertEquals(new InetSocketAddress(InetAddress.getByName("10.0.0.9"), 49152), t);
        assertSame(t, b.targetFor(49152), "the same listener's next session allocates no new address");
        assertEquals(49153, b.targetFor(49153).getPort());
    }

    @Test
    void aReloadThatMovesThePortlessBackendIsFollowed() throws Exception {
        Backend b = backend("10.0.0.9", 0);
        b.targetFor(49152);

        b.update(b.config(), new InetSocketAddress(InetAddress.getByName("10.0.0.10"), 0),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)));

        assertEquals(new InetSocketAddress(InetAddress.getByName("10.0.0.10"), 49152), b.targetFor(49152));
    }
}
