package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import dev.aegis.health.HealthChecker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@code load_balancing.slow_start} through a real listener: a backend whose HTTP health check
 * fails and passes again (a real probe over loopback) takes under 30 % of the new connections
 * early in its ramp and its full third once the ramp is over. slow_start is ten minutes, so the
 * first phase is well inside its first fifth however slow the machine; to get past the ramp the
 * test moves the pool's clock (real time plus an offset) instead of waiting.
 */
class SlowStartProxyTest {

    private static final Duration SLOW_START = Duration.ofMinutes(10);
    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(5, Duration.ofSeconds(30));

    private final AtomicLong offset = new AtomicLong();

    @Test
    void aBackendWhoseHealthCheckPassesAgainRampsUpThenTakesItsFullShare() throws Exception {
        LoadBalancingConfig balancing = new LoadBalancingConfig(Algorithm.ROUND_ROBIN, false, 0, SLOW_START);
        try (var b1 = HealthyNamed.start("b1"); var b2 = HealthyNamed.start("b2"); var b3 = HealthyNamed.start("b3");
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address(), b2.address(), b3.address()),
                        0, CIRCUIT, balancing, () -> System.nanoTime() + offset.get());
                var checker = new HealthChecker()) {
            proxy.pool.reconfigure(checked(b1.address(), b2.address(), b3.address()), balancing, CIRCUIT);
            checker.watch("tcp", false, proxy.pool.current().backends());
            Backend third = proxy.pool.current().backends().get(2);

            b3.healthy = false;
            await().atMost(Duration.ofSeconds(30)).until(() -> !third.isHealthy());
            assertEquals(0, countByName(proxy, 30).getOrDefault("b3", 0), "down: no connections");
            b3.healthy = true;
            await().atMost(Duration.ofSeconds(30)).until(third::isHealthy);

            Map<String, Integer> early = countByName(proxy, 300);
            int warming = early.getOrDefault("b3", 0);
            assertTrue(warming < 0.30 * 300, "in the first fifth of slow_start b3 got " + early);
            assertTrue(warming > 0, "ramping from 10 %, not left out: " + early);

            offset.addAndGet(SLOW_START.toNanos()); // the ramp is over
            Map<String, Integer> after = countByName(proxy, 300);
            assertEquals(100, after.getOrDefault("b3", 0), 5, "its full third after slow_start: " + after);
        }
    }

    /** Opens {@code count} connections one after the other and counts which backend named itself. */
    private static Map<String, Integer> countByName(ProxyFixture proxy, int count) throws IOException {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < count; i++) {
            try (Socket s = proxy.connect()) {
                s.getOutputStream().write("who\n".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                String name = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                counts.merge(name, 1, Integer::sum);
            }
        }
        return counts;
    }

    /** The backends again, each with a fast HTTP health check that changes state at the first result. */
    private static List<BackendPool.ResolvedBackend> checked(InetSocketAddress... addresses) {
        List<BackendPool.ResolvedBackend> out = new ArrayList<>();
        for (InetSocketAddress a : addresses) {
            HealthCheckConfig check = new HealthCheckConfig(Duration.ofMillis(50), Duration.ofSeconds(2),
                    Optional.of("/health"), HealthCheckConfig.Scheme.HTTP, 1, 1);
            out.add(new BackendPool.ResolvedBackend(
                    new BackendConfig(new HostPort(a.getHostString(), a.getPort()), 100, 0, Optional.of(check)), a));
        }
        return out;
    }

    /**
     * A backend that answers {@code GET /health} with 200 or 503 as the test says, and any other
     * first line with its name: the health check and the proxied clients reach the same port.
     */
    private static final class HealthyNamed implements AutoCloseable {
        private final TestServers.Backend server;
        volatile boolean healthy = true;

        private HealthyNamed(String name) throws IOException {
            server = new TestServers.Backend(s -> {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                String first = in.readLine();
                OutputStream out = s.getOutputStream();
                if (first != null && first.startsWith("GET /health ")) {
                    String status = healthy ? "200 OK" : "503 Service Unavailable";
                    out.write(("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                } else {
                    out.write(name.getBytes(StandardCharsets.US_ASCII));
                }
                s.shutdownOutput();
                in.transferTo(java.io.Writer.nullWriter());
            });
        }

        static HealthyNamed start(String name) throws IOException {
            return new HealthyNamed(name);
        }

        InetSocketAddress address() {
            return server.address();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
