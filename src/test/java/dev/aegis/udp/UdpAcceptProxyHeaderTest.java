package dev.aegis.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.Cidrs;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import dev.aegis.proxyprotocol.ProxyHeaderEncoder;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.accept_from} on UDP (SPEC §10): a datagram from a listed sender must start
 * with a v2 header, whose source is the client from then on (the backend sees it in the header
 * Aegis sends onward); the session is keyed by sender and client, and replies go to the sender.
 */
class UdpAcceptProxyHeaderTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final InetSocketAddress ALICE = address(new byte[] {10, 1, 1, 1}, 1111);
    private static final InetSocketAddress BOB = address(new byte[] {10, 2, 2, 2}, 2222);
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    @Test
    void twoClientsBehindOneSenderGetTwoSessionsAndTheirRepliesComeBackToTheSender() throws Exception {
        UdpProxyHeaderTest.HeaderBackend backend = track(new UdpProxyHeaderTest.HeaderBackend("a"));
        UdpListener l = listener(backend, Cidrs.parse(List.of("127.0.0.0/8")));
        try (TestClient proxy = new TestClient(l.localAddress())) {
            for (int round = 0; round < 2; round++) {
                for (InetSocketAddress client : List.of(ALICE, BOB)) {
                    proxy.send(withHeader(client, l, "hi"));
                    TestClient.Reply reply = proxy.receive(); // to the sender, not to 10.x
                    assertEquals("a " + onward(client, l) + "|hi", text(reply));
                    assertEquals(l.localAddress(), reply.from());
                }
            }
        }
        assertEquals(2, l.sessionCount());
        assertEquals(2, l.stats().sessionsCreated());
        assertEquals(0, l.stats().droppedBadProxyHeader());
    }

    @Test
    void rateLimitsAskAboutTheHeadersClientNotTheSender() throws Exception {
        UdpProxyHeaderTest.HeaderBackend backend = track(new UdpProxyHeaderTest.HeaderBackend("a"));
        UdpListener l = listener(backend, Cidrs.parse(List.of("127.0.0.1/32")));
        l.reconfigure(new UdpSettings(LONG, 0, false, client -> client.equals(ALICE)).withProxyHeader(true)
                .withAcceptFrom(Cidrs.parse(List.of("127.0.0.1/32"))));
        try (TestClient proxy = new TestClient(l.localAddress())) {
            proxy.send(withHeader(BOB, l, "refused"));
            await().until(() -> l.stats().droppedRateLimited() == 1);
            assertEquals("a " + onward(ALICE, l) + "|admitted", text(proxyAsk(proxy, withHeader(ALICE, l, "admitted"))));
        }
        assertEquals(1, l.sessionCount());
    }

    @Test
    void aDatagramWithoutHeaderFromAListedSenderIsDroppedAndCounted() throws Exception {
        UdpProxyHeaderTest.HeaderBackend backend = track(new UdpProxyHeaderTest.HeaderBackend("a"));
        UdpListener l = listener(backend, Cidrs.parse(List.of("127.0.0.1/32")));
        try (TestClient proxy = new TestClient(l.localAddress())) {
            assertNull(proxy.tryAsk("no header", 300));
            byte[] broken = withHeader(ALICE, l, "x");
            broken[12] = 0x31; // version 3
            proxy.send(broken);
            await().until(() -> l.stats().droppedBadProxyHeader() == 2);
            assertEquals("a " + onward(ALICE, l) + "|ok", text(proxyAsk(proxy, withHeader(ALICE, l, "ok"))));
        }
        assertEquals(1, backend.received()); // neither dropped datagram reached it
        assertEquals(1, l.sessionCount());
    }

    @Test
    void anUnlistedSenderIsPlainData() throws Exception {
        UdpProxyHeaderTest.HeaderBackend backend = track(new UdpProxyHeaderTest.HeaderBackend("a"));
        UdpListener l = listener(backend, Cidrs.parse(List.of("10.0.0.0/8")));
        try (TestClient c = new TestClient(l.localAddress())) {
            assertEquals("a " + onward(c.address(), l) + "|plain", c.ask("plain").text());
        }
        assertEquals(0, l.stats().droppedBadProxyHeader());
    }

    @Test
    void aLocalHeaderMakesTheSenderTheClient() throws Exception {
        UdpProxyHeaderTest.HeaderBackend backend = track(new UdpProxyHeaderTest.HeaderBackend("a"));
        UdpListener l = listener(backend, Cidrs.parse(List.of("127.0.0.1/32")));
        try (TestClient proxy = new TestClient(l.localAddress())) {
            ByteBuffer local = ByteBuffer.allocate(64);
            ProxyHeaderEncoder.writeV2Local(local);
            local.put("local".getBytes(StandardCharsets.UTF_8)).flip();
            byte[] datagram = new byte[local.remaining()];
            local.get(datagram);
            assertEquals("a " + onward(proxy.address(), l) + "|local", text(proxyAsk(proxy, datagram)));
        }
    }

    @Test
    void theAccessLineNamesTheClientAndThePeer() throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), 4444);
        Backend b = new Backend(new BackendConfig(new HostPort("127.0.0.1", 5001), 100, 0, Optional.empty()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 5001),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
        UdpSession s = UdpSession.open(ALICE, b, DatagramChannel.open(), b.address(), TokenBucket.UNLIMITED, 0,
                "dns", null, peer, new ProxiedKey().set(peer, new byte[] {10, 1, 1, 1}, 4, 1111).copy());
        try {
            assertEquals("access protocol=udp service=dns client_ip=10.1.1.1:1111 peer=127.0.0.1:4444"
                    + " backend=127.0.0.1:5001 bytes_sent=0 bytes_received=0 packets_sent=0 packets_received=0"
                    + " duration_ms=0 reason=idle_timeout", s.accessLine(EndReason.IDLE_TIMEOUT, s.createdNanos));
        } finally {
            s.leg.channel.close();
        }
    }

    private static TestClient.Reply proxyAsk(TestClient proxy, byte[] datagram) throws IOException {
        proxy.send(datagram);
        return proxy.receive();
    }

    private static String text(TestClient.Reply r) {
        return new String(r.data(), StandardCharsets.UTF_8);
    }

    /** What the backend reads in the header Aegis sends onward: the client, to the listener. */
    private static String onward(InetSocketAddress client, UdpListener l) {
        return "v2 UDP " + HostPort.format(client) + " " + HostPort.format(l.localAddress());
    }

    private static byte[] withHeader(InetSocketAddress client, UdpListener l, String payload) {
        byte[] header = ProxyHeaderEncoder.v2(Transport.UDP, client, l.localAddress());
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[header.length + p.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(p, 0, all, header.length, p.length);
        return all;
    }

    private static InetSocketAddress address(byte[] ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private UdpListener listener(UdpProxyHeaderTest.HeaderBackend backend, Cidrs acceptFrom) throws IOException {
        BackendPool pool = new BackendPool("udp", List.of(EchoBackend.resolved(backend.address())),
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Balancers::create);
        UdpListener l = track(new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), pool,
                new UdpSettings(LONG, 0, false).withProxyHeader(true).withAcceptFrom(acceptFrom)));
        l.start();
        return l;
    }

    private <T extends AutoCloseable> T track(T c) {
        closing.add(c);
        return c;
    }
}
