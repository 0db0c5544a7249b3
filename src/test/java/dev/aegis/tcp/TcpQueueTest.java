package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.BackendPool;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.config.QueueConfig;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code queue: {size, timeout}} (SPEC §11): with every backend at its {@code max_connections},
 * new connections wait in a bounded FIFO, get the slot a finishing connection frees, and are
 * rejected when the queue is full ({@code queue_full}) or their wait ran out ({@code queue_timeout}).
 * Real loopback sockets; every client holds its connection open until the test closes it.
 */
class TcpQueueTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** Two echo backends with max_connections 2 each behind a listener whose queue is {@code queue}. */
    private ProxyFixture proxy(QueueConfig queue) throws IOException {
        TestServers.Backend a = TestServers.echo();
        resources.add(a);
        TestServers.Backend b = TestServers.echo();
        resources.add(b);
        ConnectionQueue q = new ConnectionQueue(queue);
        ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(a.address(), b.address()), 2,
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), LoadBalancingConfig.Algorithm.ROUND_ROBIN,
                context -> context.withQueue(q), line -> { });
        resources.add(proxy);
        return proxy;
    }

    private Socket client(ProxyFixture proxy) throws IOException {
        Socket s = proxy.connect();
        resources.add(s);
        return s;
    }

    /** Writes one byte and reads its echo: the connection reached a backend. */
    private static void assertServed(Socket s, int b) throws IOException {
        s.getOutputStream().write(b);
        assertEquals(b, s.getInputStream().read(), "the echo of the byte sent");
    }

    private static int queueLength(ProxyFixture proxy) {
        return proxy.listener.context().queue().length();
    }

    private static long rejected(ProxyFixture proxy, RejectReason reason) {
        return proxy.listener.stats().rejected(reason);
    }

    @Test
    void tenClientsOnFourSlotsGiveFourServedThreeQueuedAndThreeRejectedAsQueueFull() throws Exception {
        ProxyFixture proxy = proxy(new QueueConfig(3, Duration.ofSeconds(60)));
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            clients.add(client(proxy)); // all at once: no client waits for another
        }

        await().atMost(WAIT).until(() -> proxy.pool.current().backends().stream()
                .mapToInt(b -> b.activeConnections()).sum() == 4
                && queueLength(proxy) == 3 && rejected(proxy, RejectReason.QUEUE_FULL) == 3);

        // Each client sends a byte and reads: an echo (served), end of stream (rejected), or nothing yet (queued).
        List<CompletableFuture<Integer>> answers = new ArrayList<>();
        for (Socket s : clients) {
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    s.getOutputStream().write('x');
                    return s.getInputStream().read();
                } catch (IOException e) {
                    return -1; // rejected before its byte arrived: the write or read met the closed socket
                }
            }, Executors.newVirtualThreadPerTaskExecutor()));
        }
        await().atMost(WAIT).until(() -> answers.stream().filter(CompletableFuture::isDone).count() == 7);
        long served = answers.stream().filter(f -> f.isDone() && f.join() == 'x').count();
        long closed = answers.stream().filter(f -> f.isDone() && f.join() == -1).count();
        assertEquals(4L, served, "two backends times max_connections 2");
        assertEquals(3L, closed, "beyond the queue's size 3, closed at once");
        assertEquals(3, queueLength(proxy), "size 3 still waiting");
        assertEquals(0, rejected(proxy, RejectReason.NO_BACKEND), "full backends are not 'no backend' with a queue");
    }

    @Test
    void waitersThatGetNoSlotInTimeAreRejectedAsQueueTimeout() throws Exception {
        ProxyFixture proxy = proxy(new QueueConfig(3, Duration.ofMillis(300)));
        for (int i = 0; i < 4; i++) {
            assertServed(client(proxy), 'a' + i);
        }
        long start = System.nanoTime();
        Socket late1 = client(proxy);
        Socket late2 = client(proxy);

        await().atMost(WAIT).until(() -> rejected(proxy, RejectReason.QUEUE_TIMEOUT) == 2);

        assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos(), "they waited the timeout first");
        assertEquals(-1, late1.getInputStream().read(), "closed once the wait ran out");
        assertEquals(-1, late2.getInputStream().read());
        assertEquals(0, queueLength(proxy));
        assertEquals(0, rejected(proxy, RejectReason.QUEUE_FULL));
    }

    @Test
    void aFreedSlotGoesToTheOldestWaiter() throws Exception {
        ProxyFixture proxy = proxy(new QueueConfig(3, Duration.ofSeconds(60)));
        List<Socket> holders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = client(proxy);
            assertServed(s, 'a' + i);
            holders.add(s);
        }
        List<Socket> waiters = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            waiters.add(client(proxy));
            int expected = i;
            await().atMost(WAIT).until(() -> queueLength(proxy) == expected); // known arrival order
        }

        holders.get(0).close(); // one slot frees

        assertServed(waiters.get(0), '1'); // the first to arrive gets through
        await().atMost(WAIT).until(() -> queueLength(proxy) == 2);
        assertEquals(2, queueLength(proxy), "the second and third still wait");

        holders.get(1).close();
        assertServed(waiters.get(1), '2'); // and then the next one
        assertEquals(1, queueLength(proxy));
    }

    @Test
    void aBackendAddedWhileClientsWaitTakesThemWithoutAnyConnectionEnding() throws Exception {
        ProxyFixture proxy = proxy(new QueueConfig(3, Duration.ofSeconds(60)));
        for (int i = 0; i < 4; i++) {
            assertServed(client(proxy), 'a' + i);
        }
        Socket first = client(proxy);
        await().atMost(WAIT).until(() -> queueLength(proxy) == 1);
        Socket second = client(proxy);
        await().atMost(WAIT).until(() -> queueLength(proxy) == 2);
        TestServers.Backend c = TestServers.echo();
        resources.add(c);

        // room appears without a slot being freed: the sweeper finds it, and the waiter that
        // gets a slot wakes the next while there is room
        proxy.pool.add(new BackendPool.ResolvedBackend(
                new BackendConfig(new HostPort("127.0.0.1", c.port()), 100, 2, Optional.empty()), c.address()));

        assertServed(first, '1');
        assertServed(second, '2');
        assertEquals(0, queueLength(proxy));
    }

    @Test
    void withoutAQueueFullBackendsRejectAtOnceAsBefore() throws Exception {
        ProxyFixture proxy = proxy(QueueConfig.NONE);
        for (int i = 0; i < 4; i++) {
            assertServed(client(proxy), 'a' + i);
        }
        Socket fifth = client(proxy);
        assertEquals(-1, fifth.getInputStream().read());
        assertEquals(1, rejected(proxy, RejectReason.NO_BACKEND));
        assertEquals(0, queueLength(proxy));
    }
}
