package dev.aegis.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A backend without a port (SPEC §9, {@code address: "10.0.0.9"}) is reached on the port the
 * client reached. The listeners sit on 127.0.0.1 and the backends on 127.0.0.2 with the same
 * ports: Linux routes all of 127.0.0.0/8 to loopback, and the two may not share an address.
 */
class PortlessBackendTest {

    private static final InetAddress BACKEND_IP = loopback(2);

    private static InetAddress loopback(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** One pool, as a service with a port range has: its one backend is 127.0.0.2 with no port. */
    private static BackendPool portlessPool() {
        return new BackendPool("tcp",
                List.of(new BackendPool.ResolvedBackend(
                        new BackendConfig(new HostPort("127.0.0.2", 0), 100, 0, Optional.empty()),
                        new InetSocketAddress(BACKEND_IP, 0))),
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Balancers::create);
    }

    private static String ask(TcpListener listener) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            s.setSoTimeout(10_000);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void eachListenerPortReachesTheSamePortOnThePortlessBackend() throws Exception {
        BackendPool pool = portlessPool();
        TcpListener first = new TcpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), pool,
                ProxyFixture.DEFAULTS);
        TcpListener second = new TcpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), pool,
                ProxyFixture.DEFAULTS);
        first.start();
        second.start();
        int x = first.localAddress().getPort();
        int y = second.localAddress().getPort();
        try (var onX = TestServers.named("port-x", new InetSocketAddress(BACKEND_IP, x));
                var onY = TestServers.named("port-y", new InetSocketAddress(BACKEND_IP, y))) {
            for (int i = 0; i < 3; i++) { // alternating: the per-backend target cache switches each time
                assertEquals("port-x", ask(first));
                assertEquals("port-y", ask(second));
            }
            assertEquals(3, onX.accepted.get());
            assertEquals(3, onY.accepted.get());
            assertEquals(0, pool.current().backends().get(0).failedConnections());
        } finally {
            first.close();
            second.close();
        }
    }
}
