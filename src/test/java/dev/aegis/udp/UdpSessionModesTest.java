package dev.aegis.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.traffic.CircuitBreaker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code udp.responses}, {@code udp.per_packet} and port-less backends, on real loopback sockets. */
class UdpSessionModesTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    /** Ending at the last reply is immediate: far below the sweep period and the session timeout. */
    private static final Duration SOON = Duration.ofMillis(500);
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
        UdpListener l = track(new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), pool,
                settings));
        l.start();
        return l;
    }

    private static UdpSettings modes(int responses, boolean perPacket) {
        return new UdpSettings(LONG, 0, false).withSessionMode(responses, perPacket);
    }

    // ---- udp.responses ----

    @Test
    void oneResponseEndsEachSessionAtOnceForTwoHundredClients() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(1));
        UdpListener l = listener(pool, modes(1, false));

        for (int i = 0; i < 200; i++) {
            try (TestClient c = new TestClient(l.localAddress())) {
                assertEquals("backend1:q" + i, c.ask("q" + i).text());
            }
        }

        // with the 30 s session timeout, only the response limit can have ended them; a session
        // leaves the table first, then gives its slot back and is counted
        await().atMost(SOON).until(() -> l.sessionCount() == 0);
        await().atMost(SOON).untilAsserted(() -> {
            UdpStats s = l.stats();
            assertEquals(200, s.sessionsCreated());
            assertEquals(200, s.sessionsEnded());
            assertEquals(0, s.sessionsExpired());
            assertEquals(0, pool.current().backends().get(0).activeConnections());
        });
    }

    @Test
    void oneResponseFromOneClientSocketOpensASessionPerQueryAndLosesNone() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(1)), modes(1, false));
        TestClient c = track(new TestClient(l.localAddress()));

        // the next query follows each answer at once: it must open a new session, not go into the
        // one closing behind the answer (which would lose it)
        for (int i = 0; i < 200; i++) {
            assertEquals("backend1:q" + i, c.ask("q" + i).text());
        }

        await().atMost(SOON).until(() -> l.sessionCount() == 0);
        assertEquals(200, l.stats().sessionsCreated());
        await().atMost(SOON).until(() -> l.stats().sessionsEnded() == 200);
    }

    @Test
    void twoResponsesKeepTheSessionUntilTheSecondReply() throws Exception {
        BackendPool pool = EchoBackend.pool(backends(1));
        UdpListener l = listener(pool, modes(2, false));
        TestClient c = track(new TestClient(l.localAddress()));

        c.ask("first");
        // a session that ends at its last reply leaves the table before that reply is sent
        assertEquals(1, l.sessionCount());
        assertEquals(1, pool.current().backends().get(0).activeConnections());

        c.ask("second");
        await().atMost(SOON).until(() -> l.sessionCount() == 0);
        assertEquals(1, l.stats().sessionsCreated(), "both datagrams went through one session");
        await().atMost(SOON).untilAsserted(() -> {
            assertEquals(1, l.stats().sessionsEnded());
            assertEquals(0, pool.current().backends().get(0).activeConnections());
        });
    }

    // ---- udp.per_packet ----

    @Test
    void perPacketSpreadsOneClientsDatagramsEvenlyAndEveryReplyComesBack() throws Exception {
        EchoBackend[] b = backends(3);
        BackendPool pool = EchoBackend.pool(b);
        UdpListener l = listener(pool, modes(0, true));
        TestClient c = track(new TestClient(l.localAddress()));

        Map<String, Integer> answeredBy = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            TestClient.Reply r = c.ask("m" + i);
            assertEquals(l.localAddress(), r.from());
            assertTrue(r.text().endsWith(":m" + i), r.text());
            answeredBy.merge(r.backend(), 1, Integer::sum);
        }

        assertEquals(Map.of("backend1", 100, "backend2", 100, "backend3", 100), answeredBy);
        for (EchoBackend e : b) {
            assertEquals(100, e.received());
        }
        assertEquals(1, l.sessionCount());
        assertEquals(1, l.stats().sessionsCreated());
        for (Backend backend : pool.current().backends()) {
            assertEquals(100, backend.totalConnections(), "one request per datagram: " + backend.id());
        }
        // the reader gives a datagram's slot back after its send returns, which can be after the
        // reply reached the client; the relay counts a reply after sending it
        await().atMost(WAIT).untilAsserted(() -> {
            for (Backend backend : pool.current().backends()) {
                assertEquals(0, backend.activeConnections(), "no slot held between datagrams: " + backend.id());
            }
            assertEquals(300, l.stats().packetsToClients());
        });
    }

    @Test
    void perPacketSkipsAnUnhealthyBackend() throws Exception {
        EchoBackend[] b = backends(3);
        BackendPool pool = EchoBackend.pool(b);
        pool.current().find(b[1].id()).setHealthy(false);
        UdpListener l = listener(pool, modes(0, true));
        TestClient c = track(new TestClient(l.localAddress()));

        for (int i = 0; i < 100; i++) {
            assertTrue(c.ask("m" + i).text().endsWith(":m" + i));
        }

        assertEquals(0, b[1].received());
        assertEquals(50, b[0].received());
        assertEquals(50, b[2].received());
    }

    @Test
    void perPacketChargesADeadBackendUntilItsCircuitOpensAndTheOthersCarryOn() throws Exception {
        InetSocketAddress dead;
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            dead = (InetSocketAddress) ch.getLocalAddress();
        }
        EchoBackend alive = track(EchoBackend.named("alive"));
        BackendPool pool = new BackendPool("udp",
                List.of(EchoBackend.resolved(dead), EchoBackend.resolved(alive.address())),
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(3, Duration.ofSeconds(30)), Balancers::create);
        Backend deadBackend = pool.current().backends().get(0);
        UdpListener l = listener(pool, modes(0, true));
        TestClient c = track(new TestClient(l.localAddress()));

        // each datagram to the dead port draws an ICMP port unreachable: one failure each, read by
        // the relay or by the next send on that leg (which then goes to the next backend)
        for (int i = 0; i < 40 && deadBackend.circuit().phase() != CircuitBreaker.Phase.OPEN; i++) {
            c.tryAsk("probe" + i, 100);
        }
        assertEquals(CircuitBreaker.Phase.OPEN, deadBackend.circuit().phase());
        assertTrue(deadBackend.failedConnections() >= 3, "failures " + deadBackend.failedConnections());

        for (int i = 0; i < 20; i++) {
            TestClient.Reply r = c.tryAsk("after" + i, 2_000);
            assertNotNull(r, "datagram " + i + " lost after the circuit opened");
            assertEquals("alive:after" + i, r.text());
        }
        assertEquals(1, l.sessionCount(), "a backend's error does not end a per-packet session");
    }

    @Test
    void perPacketWithOneResponseEndsTheSessionAtTheReply() throws Exception {
        UdpListener l = listener(EchoBackend.pool(backends(2)), modes(1, true));
        TestClient c = track(new TestClient(l.localAddress()));

        assertEquals("backend1:a", c.ask("a").text());
        assertEquals("backend2:b", c.ask("b").text());

        await().atMost(SOON).until(() -> l.sessionCount() == 0);
        await().atMost(SOON).until(() -> l.stats().sessionsEnded() == 2);
    }

    @Test
    void perPacketSessionDropsTheLegOfARemovedBackendAndCarriesOn() throws Exception {
        EchoBackend[] b = backends(2);
        BackendPool pool = EchoBackend.pool(b);
        UdpListener l = listener(pool, modes(0, true));
        TestClient c = track(new TestClient(l.localAddress()));
        c.ask("1");
        c.ask("2");

        pool.remove(b[0].id());
        l.sweep();

        for (int i = 0; i < 4; i++) {
            assertEquals("backend2:x" + i, c.ask("x" + i).text());
        }
        assertEquals(1, l.sessionCount());
    }

    // ---- port-less backends ----

    @Test
    void eachListenerPortReachesTheSamePortOnAPortlessBackend() throws Exception {
        InetAddress backendIp = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
        BackendPool pool = new BackendPool("udp",
                List.of(new BackendPool.ResolvedBackend(
                        new BackendConfig(new HostPort("127.0.0.2", 0), 100, 0, Optional.empty()),
                        new InetSocketAddress(backendIp, 0))),
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Balancers::create);
        // the listeners on 127.0.0.1, the backend's sockets on 127.0.0.2 with the listeners' ports
        UdpListener first = listener(pool, new UdpSettings(LONG, 0, false));
        UdpListener second = listener(pool, modes(0, true)); // per-packet legs take the port too
        track(EchoBackend.named("port-x", new InetSocketAddress(backendIp, first.localAddress().getPort())));
        track(EchoBackend.named("port-y", new InetSocketAddress(backendIp, second.localAddress().getPort())));

        TestClient toFirst = track(new TestClient(first.localAddress()));
        TestClient toSecond = track(new TestClient(second.localAddress()));
        for (int i = 0; i < 3; i++) {
            assertEquals("port-x:" + i, toFirst.ask(Integer.toString(i)).text());
            assertEquals("port-y:" + i, toSecond.ask(Integer.toString(i)).text());
        }
        // a fresh client (a new sticky session) too
        assertEquals("port-x:new", track(new TestClient(first.localAddress())).ask("new").text());
    }

    // ---- service name ----

    @Test
    void settingsWithoutAServiceBelongToDefaultAndKeepTheirModes() {
        UdpSettings s = new UdpSettings(LONG, 0, true);
        assertEquals("default", s.service());
        assertEquals(0, s.responses());
        assertEquals(false, s.perPacket());
        UdpSettings dns = s.withSessionMode(1, false).withService("dns");
        assertEquals("dns", dns.service());
        assertEquals(1, dns.responses());
        assertEquals(LONG, dns.sessionTimeout());
    }
}
