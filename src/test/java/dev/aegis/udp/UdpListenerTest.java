package dev.aegis.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.traffic.CircuitBreaker;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UdpListenerTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    private EchoBackend[] backends(int n) throws IOException {
        EchoBackend[] b = new EchoBackend[n];
        for (int i = 0; i < n; i++) {
            b[i] = track(EchoBackend.named("backend" + (i + 1)));
        }
        return b;
    }

    private UdpListener listener(BackendPool pool, UdpSettings settings) throws IOException {
        UdpListener l = new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), pool, settings);
        track(l);
        l.start();
        return l;
    }

    private UdpListener listener(BackendPool pool) throws IOException {
        return listener(pool, new UdpSettings(LONG, 0, true));
    }

    private TestClient client(UdpListener l) throws IOException {
        return track(new TestClient(l.localAddress()));
    }

    @Test
    void repliesComeFromTheListenAddress() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(1)));
        TestClient c = client(l);

        TestClient.Reply r = c.ask("hello");

        assertEquals("backend1:hello", r.text());
        assertEquals(l.localAddress(), r.from());
    }

    @Test
    void oneClientSticksToOneBackend() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(3)));
        TestClient c = client(l);

        Set<String> answeredBy = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            answeredBy.add(c.ask("ping" + i).backend());
        }

        assertEquals(1, answeredBy.size(), answeredBy.toString());
        assertEquals(1, l.sessionCount());
        assertEquals(1, l.stats().sessionsCreated());
    }

    @Test
    void threeClientsSpreadRoundRobin() throws Exception {
        EchoBackend[] b = backends(3);
        UdpListener l = listener(EchoBackend.pool(b));

        Set<String> answeredBy = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            answeredBy.add(client(l).ask("hi").backend());
        }

        assertEquals(Set.of("backend1", "backend2", "backend3"), answeredBy);
        assertEquals(3, l.sessionCount());
    }

    @Test
    void idleSessionExpiresAndReleasesItsBackend() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(1));
        UdpListener l = listener(pool);
        TestClient c = client(l);
        c.ask("hello");
        Backend backend = pool.current().backends().get(0);
        assertEquals(1, backend.activeConnections());

        l.reconfigure(new UdpSettings(Duration.ofMillis(200), 0, true)); // as a reload would
        await().atMost(WAIT).until(() -> l.sessionCount() == 0);

        assertEquals(0, backend.activeConnections());
        UdpStats s = l.stats();
        assertEquals(1, s.sessionsExpired());
        assertEquals(1, s.sessionsEnded());
        // the client is a new session now, and still served
        assertEquals("backend1:again", c.ask("again").text());
        assertEquals(2, l.stats().sessionsCreated());
    }

    @Test
    void sessionLimitDropsDatagramsOfNewClientsAndCountsThem() throws Exception {
        EchoBackend[] b = backends(1);
        UdpListener l = listener(EchoBackend.pool(b), new UdpSettings(LONG, 2, true));
        TestClient first = client(l);
        TestClient second = client(l);
        first.ask("1");
        second.ask("2");

        TestClient third = client(l);
        third.send("3");
        await().atMost(WAIT).until(() -> l.stats().droppedMaxSessions() == 1);

        assertEquals(2, l.sessionCount());
        assertEquals(2, b[0].received());
        // sessions that exist keep working at the limit
        assertEquals("backend1:again", first.ask("again").text());
    }

    @Test
    void thousandDatagramsFromTwentyConcurrentClientsAreAnswered() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(3)));
        int clients = 20;
        int perClient = 50;
        List<TestClient> cs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            cs.add(client(l));
        }

        int answered = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                TestClient c = cs.get(i);
                String tag = "c" + i + "-";
                results.add(pool.submit(() -> lockStep(c, tag, perClient)));
            }
            for (Future<Integer> f : results) {
                answered += f.get();
            }
        }

        // Loopback UDP loses datagrams only when a socket receive queue overflows; lock-step
        // clients keep at most 20 datagrams in flight, far below any queue, so we expect none.
        assertTrue(answered >= clients * perClient * 99 / 100, "answered " + answered);
        assertEquals(clients, l.sessionCount());
        assertTrue(l.stats().packetsFromClients() >= answered);
    }

    /** Sends one datagram at a time and waits for its own answer; returns how many were answered. */
    private static int lockStep(TestClient c, String tag, int count) throws IOException {
        int answered = 0;
        String backend = null;
        for (int i = 0; i < count; i++) {
            String payload = tag + i;
            c.send(payload);
            while (true) {
                TestClient.Reply r;
                try {
                    r = c.receive();
                } catch (SocketTimeoutException e) {
                    break; // lost: go on with the next one
                }
                if (r.text().endsWith(":" + payload)) {
                    if (backend == null) {
                        backend = r.backend();
                    } else if (!backend.equals(r.backend())) {
                        throw new AssertionError(tag + " moved from " + backend + " to " + r.backend());
                    }
                    answered++;
                    break;
                }
                // a late answer to an earlier datagram: keep waiting for ours
            }
        }
        return answered;
    }

    @Test
    void largestDatagramPassesUnchangedBothWays() throws Exception {
        EchoBackend echo = track(EchoBackend.plain());
        UdpListener l = listener(EchoBackend.pool(echo));
        TestClient c = client(l);
        byte[] big = new byte[65_507];
        new Random(42).nextBytes(big);

        c.send(big);
        TestClient.Reply r = c.receive();

        assertArrayEquals(big, r.data());
        // the reply can reach the client before the listener counts it
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertEquals(65_507, l.stats().bytesToClients());
            assertEquals(65_507, l.stats().bytesFromClients());
        });
    }

    @Test
    void sessionOfRemovedBackendEndsAtNextSweepAndTheClientMovesOn() throws Exception {
        EchoBackend[] b = backends(2);
        BackendPool pool = EchoBackend.pool(b);
        UdpListener l = listener(pool);
        TestClient c = client(l);
        assertEquals("backend1:before", c.ask("before").text());
        Backend removed = pool.remove(b[0].id());
        assertEquals(1, removed.activeConnections());

        l.sweep();

        assertEquals(0, l.sessionCount());
        assertEquals(0, removed.activeConnections());
        assertEquals("backend2:after", c.ask("after").text());
    }

    @Test
    void scheduledSweepEndsTheSessionOfARemovedBackend() throws Exception {
        EchoBackend[] b = backends(2);
        BackendPool pool = EchoBackend.pool(b);
        UdpListener l = listener(pool, new UdpSettings(Duration.ofSeconds(2), 0, true));
        client(l).ask("x");

        pool.remove(b[0].id());

        await().atMost(WAIT).until(() -> l.sessionCount() == 0);
        assertEquals(1, l.stats().sessionsEnded());
        assertEquals(0, l.stats().sessionsExpired());
    }

    @Test
    void drainingRefusesNewSessionsButKeepsOpenOnes() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(1)));
        TestClient old = client(l);
        old.ask("first");

        l.setDraining(true);
        TestClient newcomer = client(l);
        newcomer.send("refused");
        await().atMost(WAIT).until(() -> l.stats().droppedDraining() == 1);

        assertEquals("backend1:still here", old.ask("still here").text());
        assertEquals(1, l.sessionCount());

        l.setDraining(false);
        assertEquals("backend1:now", newcomer.ask("now").text());
    }

    @Test
    void unhealthyBackendGetsNoNewSession() throws Exception {
        EchoBackend[] b = backends(2);
        BackendPool pool = EchoBackend.pool(b);
        pool.current().find(b[0].id()).setHealthy(false);
        UdpListener l = listener(pool);

        for (int i = 0; i < 4; i++) {
            assertEquals("backend2", client(l).ask("x").backend());
        }
        assertEquals(0, b[0].received());
    }

    @Test
    void sessionOnABackendThatTurnsUnhealthyEndsAtTheNextSweep() throws Exception {
        EchoBackend[] b = backends(2);
        BackendPool pool = EchoBackend.pool(b);
        UdpListener l = listener(pool);
        TestClient c = client(l);
        assertEquals("backend1", c.ask("x").backend());

        pool.current().find(b[0].id()).setHealthy(false);
        l.sweep();

        assertEquals("backend2", c.ask("y").backend());
    }

    @Test
    void noAvailableBackendDropsAndCounts() throws Exception {
        EchoBackend[] b = backends(1);
        BackendPool pool = EchoBackend.pool(b);
        pool.current().find(b[0].id()).markDraining(); // (an unhealthy one would still be tried: panic mode)
        UdpListener l = listener(pool);

        client(l).send("nobody");

        await().atMost(WAIT).until(() -> l.stats().droppedNoBackend() == 1);
        assertEquals(0, l.sessionCount());
    }

    @Test
    void deadBackendCountsOneFailureAndTheNextDatagramGoesElsewhere() throws Exception {
        InetSocketAddress dead;
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            dead = (InetSocketAddress) ch.getLocalAddress();
        }
        EchoBackend alive = track(EchoBackend.named("alive"));
        BackendPool pool = new BackendPool("udp",
                List.of(EchoBackend.resolved(dead), EchoBackend.resolved(alive.address())),
                new dev.aegis.config.LoadBalancingConfig(dev.aegis.config.LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new dev.aegis.config.CircuitBreakerConfig(5, Duration.ofSeconds(30)), dev.aegis.balancer.Balancers::create);
        Backend deadBackend = pool.current().backends().get(0);
        UdpListener l = listener(pool);
        TestClient c = client(l);

        c.send("lost"); // goes to the dead backend, whose ICMP port unreachable ends the session
        await().atMost(WAIT).until(() -> deadBackend.failedConnections() == 1 && l.sessionCount() == 0);
        assertEquals(0, deadBackend.activeConnections());

        assertEquals("alive:found", c.ask("found").text());
        assertEquals(1, deadBackend.failedConnections());
    }

    @Test
    void refusedAdmissionIsCountedAsRateLimited() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(1)));
        TestClient allowed = client(l);
        TestClient limited = client(l);
        l.reconfigure(new UdpSettings(LONG, 0, true, addr -> addr.equals(allowed.address())));

        limited.send("no");
        await().atMost(WAIT).until(() -> l.stats().droppedRateLimited() == 1);

        assertEquals("backend1:yes", allowed.ask("yes").text());
        assertEquals(1, l.sessionCount());
    }

    @Test
    void countsPacketsAndBytesPerSessionAndInTotal() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(1)));
        TestClient c = client(l);
        c.ask("abc");
        c.ask("defgh");

        await().atMost(WAIT).until(() -> l.stats().packetsToClients() == 2);
        UdpSessionView v = l.sessions().get(0);
        assertEquals(c.address(), v.client());
        assertEquals(2, v.packetsFromClient());
        assertEquals(8, v.bytesFromClient());
        assertEquals(2, v.packetsToClient());
        assertEquals(8 + 2 * "backend1:".length(), v.bytesToClient());
        UdpStats s = l.stats();
        assertEquals(8, s.bytesFromClients());
        assertEquals(v.bytesToClient(), s.bytesToClients());
    }

    @Test
    void bindFailureNamesTheAddress() throws Exception {
        UdpListener first = listener(EchoBackend.pool(backends(1)));
        InetSocketAddress taken = first.localAddress();
        UdpListener second = track(new UdpListener(taken, EchoBackend.pool(backends(1)), new UdpSettings(LONG, 0, true)));

        BindException e = assertThrows(BindException.class, second::start);

        assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getPort()), e.getMessage());
    }

    @Test
    void closeEndsEverySessionAndReleasesTheBackends() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(2));
        UdpListener l = listener(pool);
        client(l).ask("a");
        client(l).ask("b");
        assertEquals(2, l.sessionCount());

        l.close();

        assertEquals(0, l.sessionCount());
        assertEquals(2, l.stats().sessionsEnded());
        for (Backend b : pool.current().backends()) {
            assertEquals(0, b.activeConnections(), b.id());
        }
        // close() does not wait for the threads; they leave by themselves
        String port = Integer.toString(l.localAddress().getPort());
        await().atMost(WAIT).until(() -> {
            Set<String> names = new HashSet<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                names.add(t.getName());
            }
            return !names.contains("aegis-udp-reader-" + port) && !names.contains("aegis-udp-relay-" + port);
        });
    }

    @Test
    void aListenerOnVirtualThreadsRelaysBothWaysWithoutAPlatformThreadOfItsOwn() throws Exception {
        EchoBackend[] b = backends(1);
        UdpListener l = track(new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                EchoBackend.pool(b), new UdpSettings(LONG, 0, false)).onVirtualThreads());
        l.start();
        assertEquals("backend1:hello", client(l).ask("hello").text());
        String port = Integer.toString(l.localAddress().getPort());
        // virtual threads are not platform threads: getAllStackTraces lists platform threads only
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().endsWith("-" + port) && t.getName().startsWith("aegis-udp-"), t.getName());
        }
        assertThrows(IllegalStateException.class, l::onVirtualThreads, "too late once started");
    }

    @Test
    void listenersShareOneSweeperThreadAndEachStillExpiresItsSessions() throws Exception {
        EchoBackend[] b = backends(1);
        List<UdpListener> listeners = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            UdpListener l = listener(EchoBackend.pool(b), new UdpSettings(Duration.ofMillis(200), 0, false));
            client(l).ask("x" + i);
            assertEquals(1, l.sessionCount());
            listeners.add(l);
        }
        long sweepers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("aegis-udp-sweeper")).count();
        assertEquals(1, sweepers, "one sweeper thread for every listener");
        await().atMost(WAIT).untilAsserted(() -> {
            for (UdpListener l : listeners) {
                assertEquals(0, l.sessionCount(), "expired on " + l.localAddress());
            }
        });
    }

    @Test
    void closeReturnsWithoutWaitingForAThreadThatIsStillBusy() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(1));
        CountDownLatch inAdmission = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // The admission hook runs on the reader thread: it parks the reader inside a datagram.
        UdpListener l = listener(pool, new UdpSettings(LONG, 0, false, client -> {
            inAdmission.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        }));
        client(l).send("parks the reader");
        assertTrue(inAdmission.await(5, TimeUnit.SECONDS));

        Thread closer = Thread.ofPlatform().name("closer").start(l::close);
        try {
            // A close() that waits for the parked reader (a join with a timeout) is caught waiting.
            await().atMost(WAIT).until(() -> closer.getState() == Thread.State.TERMINATED
                    || closer.getState() == Thread.State.TIMED_WAITING || closer.getState() == Thread.State.WAITING);
            assertEquals(Thread.State.TERMINATED, closer.getState(), "close() waits for the busy reader");
            assertEquals(1, release.getCount(), "the reader is still parked");
        } finally {
            release.countDown();
            closer.join();
        }
        // The reader finishes its datagram: the session it opens ends at once, nothing is left.
        String port = Integer.toString(l.localAddress().getPort());
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("aegis-udp-reader-" + port)));
        assertEquals(0, l.sessionCount());
        assertEquals(0, pool.current().backends().get(0).activeConnections());
    }

    @Test
    void runningOutOfDescriptorsForANewSessionIsNotHeldAgainstTheBackends() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(2));
        UdpListener l = listener(pool);
        AtomicInteger opens = new AtomicInteger();
        // What the JDK throws when socket(2) fails with EMFILE.
        l.openChannelsWith(family -> {
            opens.incrementAndGet();
            throw new SocketException("Too many open files");
        });

        for (int i = 0; i < 10; i++) {
            client(l).send("no descriptor " + i);
        }

        await().atMost(WAIT).until(() -> l.stats().droppedLocalError() == 10);
        assertEquals(10, opens.get(), "one open per datagram: no other backend tried for a local failure");
        assertEquals(0, l.stats().droppedNoBackend());
        assertEquals(0, l.sessionCount());
        for (Backend b : pool.current().backends()) {
            assertEquals(0, b.failedConnections(), b.id());
            assertEquals(0, b.circuit().consecutiveFailures(), b.id());
            assertEquals(CircuitBreaker.Phase.CLOSED, b.circuit().phase(), b.id());
            assertEquals(0, b.activeConnections(), b.id());
        }

        // Descriptors are back: the very next client is served.
        l.openChannelsWith(DatagramChannel::open);
        assertTrue(client(l).ask("back").text().startsWith("backend"));
    }

    @Test
    void emptyDatagramGetsAnEmptyReply() throws Exception {
        UdpListener l = listener(EchoBackend.pool(track(EchoBackend.plain())));
        TestClient c = client(l);

        c.send(new byte[0]);
        TestClient.Reply r = c.receive();

        assertEquals(0, r.data().length);
        assertEquals(l.localAddress(), r.from());
        assertEquals("after", c.ask("after").text()); // the session carries on
        assertEquals(0, l.stats().datagramsUnsent());
        assertEquals(1, l.sessionCount());
        await().atMost(WAIT).until(() -> l.stats().packetsToClients() == 2); // counted after the send
    }

    @Test
    void dropsDatagramsOverTheSessionPacketRate() throws Exception {
        // a fixed clock: the bucket never refills, so exactly `burst` datagrams pass
        long[] now = {0};
        UdpSettings limited = new UdpSettings(LONG, 0, false, UdpAdmission.ADMIT_ALL,
                () -> dev.aegis.traffic.TokenBucket.of(5, 5, () -> now[0]));
        UdpListener l = listener(EchoBackend.pool(backends(1)), limited);
        TestClient c = client(l);
        for (int i = 0; i < 20; i++) {
            c.send("p" + i);
        }
        await().atMost(WAIT).until(() -> l.stats().packetsFromClients() == 20);
        assertEquals(15, l.stats().droppedPacketRate());
        assertEquals("backend1:", c.receive().text().substring(0, 9));
    }
}
