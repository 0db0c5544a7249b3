package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.health.HealthChecker;
import dev.aegis.config.CircuitBreakerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class TcpProxyTest {

    private static String readString(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void copiesSixteenConcurrentEightMegabyteTransfersByteExact() throws Exception {
        try (var b1 = TestServers.echo(); var b2 = TestServers.echo();
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address(), b2.address()));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            int size = 8 * 1024 * 1024;
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                long seed = i;
                results.add(clients.submit(transfer(proxy, size, seed)));
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get(), "echoed bytes differ from the bytes sent");
            }
            // the counters are added to when a connection ends, which can be after its client saw EOF
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertEquals(16L * size, proxy.listener.stats().bytesFromClients());
                assertEquals(16L * size, proxy.listener.stats().bytesToClients());
            });
        }
    }

    private static Callable<Boolean> transfer(ProxyFixture proxy, int size, long seed) {
        return () -> {
            byte[] data = new byte[size];
            new Random(seed).nextBytes(data);
            try (Socket s = proxy.connect()) {
                Thread writer = Thread.ofVirtual().start(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        for (int off = 0; off < size; off += 65536) {
                            out.write(data, off, Math.min(65536, size - off));
                        }
                        s.shutdownOutput();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                MessageDigest got = MessageDigest.getInstance("SHA-256");
                InputStream in = s.getInputStream();
                byte[] buf = new byte[65536];
                long total = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.update(buf, 0, n);
                    total += n;
                }
                writer.join();
                byte[] want = MessageDigest.getInstance("SHA-256").digest(data);
                return total == size && MessageDigest.isEqual(want, got.digest());
            }
        };
    }

    @Test
    void propagatesHalfCloseAndKeepsTheOtherDirectionFlowing() throws Exception {
        // The backend reads until the client's FIN arrives, then answers with what it counted.
        try (var backend = new TestServers.Backend(s -> {
                    long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
                    s.getOutputStream().write(("got " + n).getBytes(StandardCharsets.UTF_8));
                });
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()));
                Socket client = proxy.connect()) {
            client.getOutputStream().write(new byte[1000]);
            client.shutdownOutput();
            assertEquals("got 1000", readString(client));
        }
    }

    @Test
    void propagatesABackendResetAsAReset() throws Exception {
        try (var backend = new TestServers.Backend(s -> {
                    s.getInputStream().read();
                    s.setSoLinger(true, 0);
                    s.close();
                });
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()));
                Socket client = proxy.connect()) {
            client.getOutputStream().write(1);
            assertThrows(SocketException.class, () -> client.getInputStream().read(),
                    "the client should see a reset, not a clean end of stream");
            await().until(() -> proxy.listener.stats().closed(CloseReason.BACKEND_RESET) == 1);
        }
    }

    @Test
    void propagatesAClientResetToTheBackend() throws Exception {
        var backendSawReset = new java.util.concurrent.CompletableFuture<Boolean>();
        try (var backend = new TestServers.Backend(s -> {
                    s.getOutputStream().write(1);
                    try {
                        int r = s.getInputStream().read();
                        backendSawReset.complete(false);
                    } catch (SocketException e) {
                        backendSawReset.complete(true);
                    }
                });
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()))) {
            Socket client = proxy.connect();
            assertEquals(1, client.getInputStream().read());
            client.setSoLinger(true, 0);
            client.close();
            assertTrue(backendSawReset.get(), "backend saw a clean EOF instead of a reset");
        }
    }

    @Test
    void failsOverPastADeadBackendSoNoClientFails() throws Exception {
        int dead = TestServers.closedPort();
        try (var alive = TestServers.named("alive");
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS,
                        List.of(new InetSocketAddress("127.0.0.1", dead), alive.address()))) {
            for (int i = 0; i < 10; i++) {
                try (Socket s = proxy.connect()) {
                    assertEquals("alive", readString(s));
                }
            }
            Backend deadBackend = proxy.pool.current().backends().get(0);
            assertTrue(deadBackend.failedConnections() >= 1, "the dead backend's failures are counted");
            assertEquals(0, proxy.listener.stats().closed(CloseReason.CONNECT_FAILED));
        }
    }

    @Test
    void roundRobinsNewConnectionsOverTheBackends() throws Exception {
        try (var b1 = TestServers.named("b1"); var b2 = TestServers.named("b2"); var b3 = TestServers.named("b3");
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address(), b2.address(), b3.address()))) {
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                try (Socket s = proxy.connect()) {
                    seen.add(readString(s));
                }
            }
            assertEquals(List.of("b1", "b2", "b3", "b1", "b2", "b3", "b1", "b2", "b3"), seen);
        }
    }

    @Test
    void closesAConnectionIdleForTheIdleTimeout() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofSeconds(30), 2, 0, 0, false);
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(s, List.of(backend.address()));
                Socket client = proxy.connect()) {
            client.getOutputStream().write(7);
            assertEquals(7, client.getInputStream().read());
            long t0 = System.nanoTime();
            assertThrows(SocketException.class, () -> client.getInputStream().read(),
                    "the proxy should reset the idle connection (a timeout never ends a stream with a FIN)");
            assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(250).toNanos(), "closed before the idle timeout");
            await().until(() -> proxy.listener.stats().closed(CloseReason.IDLE_TIMEOUT) == 1);
        }
    }

    @Test
    void closesOnReadTimeoutWhenTheBackendHangsAndCountsAFailure() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMillis(300), 2, 0, 0, false);
        try (var hung = TestServers.silent(); var proxy = new ProxyFixture(s, List.of(hung.address()));
                Socket client = proxy.connect()) {
            client.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThrows(SocketException.class, () -> client.getInputStream().read(), "a read timeout resets the client");
            await().until(() -> proxy.listener.stats().closed(CloseReason.READ_TIMEOUT) == 1);
            Backend b = proxy.pool.current().backends().get(0);
            await().until(() -> b.failedConnections() == 1);
        }
    }

    @Test
    void anIdleConnectionWithNothingPendingIsNotAReadTimeout() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofMillis(600), Duration.ofMillis(150), 2, 0, 0, false);
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(s, List.of(backend.address()));
                Socket client = proxy.connect()) {
            client.getOutputStream().write(7);
            assertEquals(7, client.getInputStream().read());
            assertThrows(SocketException.class, () -> client.getInputStream().read(), "ended by the idle timeout");
            await().until(() -> proxy.listener.stats().closed(CloseReason.IDLE_TIMEOUT) == 1);
            assertEquals(0, proxy.listener.stats().closed(CloseReason.READ_TIMEOUT));
        }
    }

    @Test
    void refusesConnectionsBeyondTheProxyLimit() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 2, 0, false);
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(s, List.of(backend.address()));
                Socket c1 = proxy.connect(); Socket c2 = proxy.connect()) {
            c1.getOutputStream().write(1);
            c2.getOutputStream().write(2);
            assertEquals(1, c1.getInputStream().read());
            assertEquals(2, c2.getInputStream().read());
            try (Socket c3 = proxy.connect()) {
                assertEquals(-1, c3.getInputStream().read(), "the third connection should be closed at once");
            }
            assertEquals(1, proxy.listener.stats().rejected(RejectReason.MAX_CONNECTIONS));
            c1.close();
            await().until(() -> proxy.listener.activeConnections() == 1);
            try (Socket c4 = proxy.connect()) {
                c4.getOutputStream().write(4);
                assertEquals(4, c4.getInputStream().read(), "a freed slot is usable again");
            }
        }
    }

    @Test
    void aFullBackendIsSkippedAndNoBackendLeftRejects() throws Exception {
        try (var b1 = TestServers.echo();
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address()), 1,
                        new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
                Socket c1 = proxy.connect()) {
            c1.getOutputStream().write(1);
            assertEquals(1, c1.getInputStream().read());
            try (Socket c2 = proxy.connect()) {
                assertEquals(-1, c2.getInputStream().read());
            }
            assertEquals(1, proxy.listener.stats().rejected(RejectReason.NO_BACKEND));
        }
    }

    @Test
    void drainingRefusesNewConnectionsWhileOpenOnesCarryOn() throws Exception {
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()));
                Socket old = proxy.connect()) {
            old.getOutputStream().write(1);
            assertEquals(1, old.getInputStream().read());
            proxy.listener.setDraining(true);
            try (Socket fresh = proxy.connect()) {
                assertEquals(-1, fresh.getInputStream().read());
            }
            old.getOutputStream().write(2);
            assertEquals(2, old.getInputStream().read(), "an open connection keeps working while draining");
            assertEquals(1, proxy.listener.stats().rejected(RejectReason.DRAINING));
        }
    }

    @Test
    void aBusyListenAddressFailsWithAMessageNamingIt() throws Exception {
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()))) {
            InetSocketAddress taken = proxy.listener.localAddress();
            TcpListener second = new TcpListener(taken, proxy.pool, ProxyFixture.DEFAULTS);
            BindException e = assertThrows(BindException.class, second::start);
            assertTrue(e.getMessage().contains("cannot listen on tcp") && e.getMessage().contains(":" + taken.getPort()),
                    e.getMessage());
        }
    }

    @Test
    void openConnectionsReleaseTheirBackendSlotWhenTheyEnd() throws Exception {
        try (var backend = TestServers.echo(); var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()))) {
            Backend b = proxy.pool.current().backends().get(0);
            try (Socket c = proxy.connect()) {
                c.getOutputStream().write(1);
                assertEquals(1, c.getInputStream().read());
                assertEquals(1, b.activeConnections());
            }
            await().until(() -> b.activeConnections() == 0 && proxy.listener.activeConnections() == 0);
            assertEquals(1, b.totalConnections());
        }
    }

    @Test
    void limitsTheBandwidthOfEachConnection() throws Exception {
        try (var backend = new TestServers.Backend(s -> {
                    long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
                    s.getOutputStream().write(Long.toString(n).getBytes(StandardCharsets.UTF_8));
                });
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()))) {
            int rate = 400_000;
            proxy.listener.reconfigure(proxy.listener.context().withBandwidthBuckets(() -> dev.aegis.traffic.TokenBucket.of(rate, rate)));
            try (Socket client = proxy.connect()) {
                long t0 = System.nanoTime();
                client.getOutputStream().write(new byte[3 * rate]); // one second of burst, then two at the rate
                client.shutdownOutput();
                assertEquals(Integer.toString(3 * rate), readString(client));
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertTrue(seconds >= 1.8, "3x the rate with 1x burst must take about 2 s, took " + seconds);
            }
        }
    }

    @Test
    void whenEveryHealthCheckFailsClientsAreRejectedAtOnceAsNoBackend() throws Exception {
        try (var b1 = TestServers.named("b1"); var b2 = TestServers.named("b2");
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address(), b2.address()));
                var checker = new HealthChecker()) {
            // The backends serve, but answer an HTTP check with garbage: every check fails.
            proxy.pool.reconfigure(checked(b1.address(), b2.address()), ROUND_ROBIN, CIRCUIT);
            checker.watch("tcp", false, proxy.pool.current().backends());
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> proxy.pool.current().backends().stream().noneMatch(Backend::isHealthy));

            try (Socket s = proxy.connect()) {
                assertEquals(-1, s.getInputStream().read(), "no healthy backend: closed at once (panic mode is off)");
            }
            assertEquals(1, proxy.listener.stats().rejected(RejectReason.NO_BACKEND));
            assertEquals(0, proxy.pool.current().panicPicks());
        }
    }

    @Test
    void belowThePanicThresholdUnhealthyBackendsServeAgainAndArePanicPicks() throws Exception {
        try (var b1 = TestServers.named("b1"); var b2 = TestServers.named("b2");
                var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(b1.address(), b2.address()))) {
            List<BackendPool.ResolvedBackend> same = checked(b1.address(), b2.address());
            proxy.pool.reconfigure(same, new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false, 50),
                    CIRCUIT);
            proxy.pool.current().backends().forEach(b -> b.setHealthy(false));
            try (Socket s = proxy.connect()) {
                assertTrue(readString(s).startsWith("b"), "panic mode serves from an unhealthy backend");
            }
            assertEquals(1, proxy.pool.current().panicPicks());
            proxy.pool.current().backends().get(1).setHealthy(true); // 1 of 2 = 50 %: panic mode ends
            for (int i = 0; i < 3; i++) {
                try (Socket s = proxy.connect()) {
                    assertEquals("b2", readString(s), "at the threshold only the healthy backend is used");
                }
            }
            assertEquals(1, proxy.pool.current().panicPicks());
        }
    }

    private static final LoadBalancingConfig ROUND_ROBIN =
            new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false);
    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(5, Duration.ofSeconds(30));

    /** The fixture's backends again, each with a fast HTTP health check that falls at the first failure. */
    private static List<BackendPool.ResolvedBackend> checked(InetSocketAddress... addresses) {
        List<BackendPool.ResolvedBackend> out = new ArrayList<>();
        for (InetSocketAddress a : addresses) {
            HealthCheckConfig check = new HealthCheckConfig(Duration.ofMillis(50), Duration.ofMillis(500),
                    Optional.of("/health"), HealthCheckConfig.Scheme.HTTP, 1, 1);
            out.add(new BackendPool.ResolvedBackend(
                    new BackendConfig(new HostPort(a.getHostString(), a.getPort()), 100, 0, Optional.of(check)), a));
        }
        return out;
    }

    @Test
    void readTimeoutsInARowOpenTheHungBackendsCircuit() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMillis(200), 2, 0, 0, false);
        try (var hung = TestServers.silent(); var echo = TestServers.echo();
                var proxy = new ProxyFixture(s, List.of(hung.address(), echo.address()), 0,
                        new CircuitBreakerConfig(2, Duration.ofSeconds(60)))) {
            List<Boolean> answered = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                try (Socket c = proxy.connect()) {
                    c.getOutputStream().write(9);
                    answered.add(readsOrIsReset(c) == 9);
                }
            }
            // round robin: the 1st and 3rd land on the hung backend; two read timeouts in a row open its
            // circuit (the successful connects in between must not reset the count), then only echo answers
            assertEquals(List.of(false, true, false, true, true, true), answered);
            assertEquals(2, hung.accepted.get());
        }
    }

    /** The byte read, or -1 for a reset (a read timeout) or an end of stream. */
    private static int readsOrIsReset(Socket c) throws IOException {
        try {
            return c.getInputStream().read();
        } catch (SocketException e) {
            return -1;
        }
    }

    @Test
    void aReadTimeoutAfterTheClientsHalfCloseIsStillAReadTimeout() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMillis(200), 2, 0, 0, false);
        try (var hung = TestServers.hungAfterEof(); var proxy = new ProxyFixture(s, List.of(hung.address()));
                Socket c = proxy.connect()) {
            c.getOutputStream().write(new byte[100]);
            c.shutdownOutput();
            assertThrows(SocketException.class, () -> c.getInputStream().read(), "a read timeout resets the client");
            await().until(() -> proxy.listener.stats().closed(CloseReason.READ_TIMEOUT) == 1);
            assertEquals(0, proxy.listener.stats().closed(CloseReason.CLIENT_CLOSED));
            assertEquals(1, proxy.pool.current().backends().get(0).failedConnections());
        }
    }

    @Test
    void aClosedPortOpensTheCircuitAndTheHalfOpenTrialClosesItOnceThePortListensAgain() throws Exception {
        int port = TestServers.closedPort();
        try (var proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(new InetSocketAddress("127.0.0.1", port)), 0,
                new CircuitBreakerConfig(2, Duration.ofMillis(300)))) {
            Backend b = proxy.pool.current().backends().get(0);
            for (int i = 0; i < 2; i++) {
                try (Socket c = proxy.connect()) {
                    assertEquals(-1, c.getInputStream().read(), "nothing listens: the client is closed");
                }
            }
            assertEquals(dev.aegis.traffic.CircuitBreaker.Phase.OPEN, b.circuit().phase());
            long failuresWhileOpen = b.failedConnections();
            try (Socket c = proxy.connect()) {
                assertEquals(-1, c.getInputStream().read());
            }
            assertEquals(failuresWhileOpen, b.failedConnections(), "an open circuit sends nothing to the backend");
            assertTrue(proxy.listener.stats().rejected(RejectReason.NO_BACKEND) >= 1);

            try (var revived = new java.net.ServerSocket()) {
                revived.setReuseAddress(true);
                revived.bind(new InetSocketAddress("127.0.0.1", port));
                Thread.ofVirtual().start(() -> {
                    while (!revived.isClosed()) {
                        try (Socket s = revived.accept()) {
                            s.getOutputStream().write("up".getBytes(StandardCharsets.UTF_8));
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                // after the open timeout one trial goes through; its answer closes the circuit
                await().atMost(Duration.ofSeconds(5)).until(() -> {
                    try (Socket c = proxy.connect()) {
                        return "up".equals(readString(c));
                    }
                });
                await().until(() -> b.circuit().phase() == dev.aegis.traffic.CircuitBreaker.Phase.CLOSED);
                try (Socket c = proxy.connect()) {
                    assertEquals("up", readString(c));
                }
            }
        }
    }
}
