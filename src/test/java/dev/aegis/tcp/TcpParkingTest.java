package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.LoadBalancingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Idle parking (on here, off by default): a connection idle for a second in both directions
 * gives up its threads and waits in the shared selector; data, a FIN or a reset on either side
 * resumes it, and every timeout and close behaves as for a connection that never parked.
 */
class TcpParkingTest {

    private static final Duration PARK = Duration.ofSeconds(20); // generous: a busy shared machine

    private static TcpSettings settings() {
        return new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0, true);
    }

    private static ProxyFixture proxy(TcpSettings s, TestServers.Backend backend, List<String> lines)
            throws IOException {
        ProxyFixture proxy = new ProxyFixture(s, List.of(backend.address()), 0,
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), LoadBalancingConfig.Algorithm.ROUND_ROBIN,
                UnaryOperator.identity(), lines::add);
        proxy.listener.parkAfter(Duration.ofSeconds(1)); // before the first connection
        return proxy;
    }

    /** A backend that holds each connection open and does nothing: the test talks on its sockets. */
    private static TestServers.Backend held() throws IOException {
        TestServers.Backend[] self = new TestServers.Backend[1];
        self[0] = new TestServers.Backend(s -> {
            try {
                self[0].closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return self[0];
    }

    private static void awaitParked(ProxyFixture proxy, int n) {
        await().atMost(PARK).until(() -> proxy.listener.parkedConnections() == n && proxy.listener.pipeThreads() == 0);
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes {@code data} on one socket while reading it back on another; both sides checksummed. */
    private static void transfer(Socket sender, Socket receiver, byte[] data) throws Exception {
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> w = ex.submit(() -> {
                sender.getOutputStream().write(data);
                sender.getOutputStream().flush();
                return null;
            });
            byte[] got = receiver.getInputStream().readNBytes(data.length);
            w.get();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            assertArrayEquals(md.digest(data), MessageDigest.getInstance("SHA-256").digest(got));
        }
    }

    @Test
    void anIdleConnectionParksAndDataEitherWayWakesItWithEveryByteInOrder() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = held(); var proxy = proxy(settings(), backend, lines); Socket client = proxy.connect()) {
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            Socket server = backend.sockets.get(0);
            server.setSoTimeout(10_000);
            awaitParked(proxy, 1);
            assertEquals(1, proxy.listener.activeConnections(), "a parked connection is still open");
            long seed = 1;
            for (int size : new int[] {1, 100, 511, 5_000, 70_000, 1_500_007}) {
                transfer(client, server, random(size, seed++)); // client to backend wakes it
                // a tail of one byte: a read that filled its buffer exactly is followed by an
                // untimed one, and a connection parks only once both wait with a timeout
                transfer(client, server, random(1, seed++));
                awaitParked(proxy, 1);
                transfer(server, client, random(size, seed++)); // backend to client wakes it
                transfer(server, client, random(1, seed++));
                awaitParked(proxy, 1);
            }
            assertTrue(lines.isEmpty(), "still open: " + lines);
        }
    }

    @Test
    void aFinWhileParkedIsPassedOnAndTheOtherDirectionStillFlows() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = held(); var proxy = proxy(settings(), backend, lines); Socket client = proxy.connect()) {
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            Socket server = backend.sockets.get(0);
            server.setSoTimeout(10_000);
            awaitParked(proxy, 1);
            client.shutdownOutput();
            assertEquals(-1, server.getInputStream().read(), "the client's FIN reaches the backend");
            // half-closed: the live direction parks alone, and still carries the answer
            awaitParked(proxy, 1);
            transfer(server, client, random(300_000, 7));
            server.shutdownOutput();
            assertEquals(-1, client.getInputStream().read());
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.CLIENT_CLOSED) == 1);
            assertEquals(1, lines.size());
            assertTrue(lines.get(0).contains(" bytes_sent=300000 bytes_received=0 "), lines.get(0));
            assertTrue(lines.get(0).contains(" reason=client_closed"), lines.get(0));
            assertEquals(0, proxy.listener.activeConnections());
            assertEquals(0, proxy.listener.parkedConnections());
        }
    }

    @Test
    void aResetWhileParkedClosesTheConnection() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = held(); var proxy = proxy(settings(), backend, lines)) {
            Socket client = proxy.connect();
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            Socket server = backend.sockets.get(0);
            server.setSoTimeout(10_000);
            awaitParked(proxy, 1);
            client.setSoLinger(true, 0);
            client.close();
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.CLIENT_RESET) == 1);
            assertThrows(IOException.class, () -> server.getInputStream().read(), "the reset is passed on");
            assertEquals(0, proxy.listener.activeConnections());
            assertTrue(lines.get(0).contains(" reason=client_reset"), lines.get(0));
        }
    }

    @Test
    void theIdleTimeoutOfAParkedConnectionFiresAsBefore() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(30), 2, 0, 0,
                true);
        try (var backend = held(); var proxy = proxy(s, backend, lines); Socket client = proxy.connect()) {
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            Socket server = backend.sockets.get(0);
            server.setSoTimeout(10_000);
            transfer(client, server, random(10, 3));
            awaitParked(proxy, 1);
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.IDLE_TIMEOUT) == 1);
            // a timeout cannot know the streams are complete: both sides get a reset, as before
            assertThrows(IOException.class, () -> client.getInputStream().read());
            assertThrows(IOException.class, () -> server.getInputStream().read());
            assertEquals(1, lines.size());
            String line = lines.get(0);
            assertTrue(line.contains(" bytes_sent=0 bytes_received=10 "), line);
            assertTrue(line.endsWith(" reason=idle_timeout"), line);
            long ms = Long.parseLong(line.replaceAll(".* duration_ms=(\\d+) .*", "$1"));
            assertTrue(ms >= 4000 && ms < 20_000, line);
            assertEquals(0, proxy.listener.parkedConnections());
        }
    }

    @Test
    void maxLifetimeEndsAParkedConnectionWithAFinBothWays() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        TcpSettings s = settings().withMaxLifetime(Duration.ofSeconds(3));
        try (var backend = held(); var proxy = proxy(s, backend, lines); Socket client = proxy.connect()) {
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            Socket server = backend.sockets.get(0);
            server.setSoTimeout(10_000);
            awaitParked(proxy, 1);
            assertEquals(-1, client.getInputStream().read(), "a FIN, not a reset");
            assertEquals(-1, server.getInputStream().read(), "a FIN, not a reset");
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.MAX_LIFETIME) == 1);
            assertTrue(lines.get(0).endsWith(" reason=max_lifetime"), lines.get(0));
        }
    }

    @Test
    void backendRemovalClosesAParkedConnection() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = held(); var proxy = proxy(settings(), backend, lines); Socket client = proxy.connect()) {
            await().atMost(PARK).until(() -> backend.sockets.size() == 1);
            awaitParked(proxy, 1);
            proxy.listener.evict(proxy.pool.current().backends());
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.BACKEND_REMOVED) == 1);
            assertThrows(IOException.class, () -> client.getInputStream().read());
            assertTrue(lines.get(0).endsWith(" reason=backend_removed"), lines.get(0));
            assertEquals(0, proxy.listener.activeConnections());
        }
    }

    @Test
    void shutdownClosesParkedConnections() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = held(); var proxy = proxy(settings(), backend, lines)) {
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                clients.add(proxy.connect());
            }
            awaitParked(proxy, 3);
            assertEquals(3, proxy.listener.activeConnections(), "parked connections count as open for the drain");
            proxy.listener.close();
            await().atMost(PARK).until(() -> proxy.listener.stats().closed(CloseReason.SHUTDOWN) == 3);
            assertEquals(0, proxy.listener.activeConnections());
            for (Socket c : clients) {
                assertThrows(IOException.class, () -> c.getInputStream().read());
                c.close();
            }
        }
    }

    @Test
    void withParkingOffAnIdleConnectionKeepsItsThreads() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = TestServers.echo(); var proxy = proxy(settings(), backend, lines)) {
            proxy.listener.parkAfter(Duration.ZERO);
            try (Socket client = proxy.connect()) {
                transfer(client, client, random(100, 9));
                // two seconds of idleness, then still two threads: nothing to await but time itself
                long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                await().atMost(PARK).until(() -> System.nanoTime() - until > 0);
                assertEquals(0, proxy.listener.parkedConnections());
                assertEquals(2, proxy.listener.pipeThreads());
                transfer(client, client, random(70_000, 10));
            }
        }
    }

    @Test
    void twoHundredConnectionsParkAndWakeRepeatedlyWithoutLosingAByte() throws Exception {
        int n = 200;
        List<String> lines = new CopyOnWriteArrayList<>();
        try (var backend = TestServers.echo(); var proxy = proxy(settings(), backend, lines)) {
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    clients.add(proxy.connect());
                }
                for (int round = 0; round < 3; round++) {
                    awaitParked(proxy, n);
                    int r = round;
                    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                        List<Future<?>> done = new ArrayList<>();
                        for (int i = 0; i < n; i++) {
                            Socket c = clients.get(i);
                            int size = 1 + (i * 7919 + r * 104_729) % 40_000;
                            long seed = i * 31L + r;
                            done.add(ex.submit(() -> {
                                transfer(c, c, random(size, seed));
                                transfer(c, c, random(1, seed)); // see the first test: the tail
                                return null;
                            }));
                        }
                        for (Future<?> f : done) {
                            f.get();
                        }
                    }
                }
                awaitParked(proxy, n);
                assertTrue(lines.isEmpty(), "none closed: " + lines);
            } finally {
                for (Socket c : clients) {
                    c.close();
                }
            }
            await().atMost(PARK).until(() -> proxy.listener.activeConnections() == 0);
            assertEquals(n, proxy.listener.stats().closed(CloseReason.CLIENT_CLOSED));
        }
    }
}
