package dev.aegis.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.proxyprotocol.ParseResult;
import dev.aegis.proxyprotocol.ProxyHeader;
import dev.aegis.proxyprotocol.ProxyHeaderParser;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.send: v2} on UDP (SPEC §10): every datagram to a backend starts with a v2
 * {@code DGRAM} header naming the client and the listener's address, in sticky and per-packet
 * sessions alike; the backend's replies reach the client unchanged. The backend parses the header
 * with {@link ProxyHeaderParser#parseDatagram}.
 */
class UdpProxyHeaderTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
    }

    @Test
    void everyDatagramOfAStickySessionCarriesTheHeader() throws Exception {
        HeaderBackend backend = track(new HeaderBackend("a"));
        UdpListener l = listener(backend, new UdpSettings(LONG, 0, false).withProxyHeader(true));
        try (TestClient c = new TestClient(l.localAddress())) {
            for (String payload : List.of("one", "two", "three")) {
                assertEquals("a " + expected(c, l) + "|" + payload, c.ask(payload).text());
            }
        }
        assertEquals(3, backend.received());
    }

    @Test
    void anEmptyDatagramGoesOutAsTheHeaderAlone() throws Exception {
        HeaderBackend backend = track(new HeaderBackend("a"));
        UdpListener l = listener(backend, new UdpSettings(LONG, 0, false).withProxyHeader(true));
        try (TestClient c = new TestClient(l.localAddress())) {
            assertEquals("a " + expected(c, l) + "|", c.ask("").text());
        }
    }

    @Test
    void everyLegOfAPerPacketSessionCarriesTheHeader() throws Exception {
        HeaderBackend a = track(new HeaderBackend("a"));
        HeaderBackend b = track(new HeaderBackend("b"));
        UdpListener l = track(new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                pool(a, b), new UdpSettings(LONG, 0, false).withSessionMode(0, true).withProxyHeader(true)));
        l.start();
        Set<String> backends = new HashSet<>();
        try (TestClient c = new TestClient(l.localAddress())) {
            for (int i = 0; i < 4; i++) {
                String reply = c.ask("p" + i).text();
                backends.add(reply.substring(0, 1));
                assertEquals(expected(c, l) + "|p" + i, reply.substring(2));
            }
        }
        assertEquals(Set.of("a", "b"), backends);
    }

    @Test
    void withoutTheSettingTheBackendSeesThePayloadAlone() throws Exception {
        HeaderBackend backend = track(new HeaderBackend("a"));
        UdpListener l = listener(backend, new UdpSettings(LONG, 0, false));
        try (TestClient c = new TestClient(l.localAddress())) {
            assertEquals("a none|plain", c.ask("plain").text());
        }
    }

    private static String expected(TestClient c, UdpListener l) {
        return "v2 UDP " + HostPort.format(c.address()) + " " + HostPort.format(l.localAddress());
    }

    private UdpListener listener(HeaderBackend backend, UdpSettings settings) throws IOException {
        UdpListener l = track(new UdpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                pool(backend), settings));
        l.start();
        return l;
    }

    private static BackendPool pool(HeaderBackend... backends) {
        List<BackendPool.ResolvedBackend> list = new ArrayList<>();
        for (HeaderBackend b : backends) {
            list.add(EchoBackend.resolved(b.address()));
        }
        return new BackendPool("udp", list,
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Balancers::create);
    }

    private <T extends AutoCloseable> T track(T c) {
        closing.add(c);
        return c;
    }

    /**
     * Parses the v2 header of each datagram and answers {@code name v2 UDP source destination|payload}
     * ({@code name none|payload} without a header).
     */
    static final class HeaderBackend implements AutoCloseable {

        private final String name;
        private final DatagramChannel channel;
        private final Thread thread;
        private volatile int received;

        HeaderBackend(String name) throws IOException {
            this.name = name;
            channel = DatagramChannel.open();
            channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = Thread.ofPlatform().daemon().name("header-backend-" + name).start(this::serve);
        }

        InetSocketAddress address() {
            try {
                return (InetSocketAddress) channel.getLocalAddress();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        int received() {
            return received;
        }

        private void serve() {
            ByteBuffer in = ByteBuffer.allocate(65_535);
            while (true) {
                try {
                    in.clear();
                    SocketAddress from = channel.receive(in);
                    in.flip();
                    received++;
                    ParseResult r = ProxyHeaderParser.parseDatagram(in);
                    String seen;
                    if (r instanceof ParseResult.Parsed(ProxyHeader h)) {
                        seen = "v" + h.version() + " " + h.transport() + " " + HostPort.format(h.source()) + " "
                                + HostPort.format(h.destination());
                        in.position(in.position() + h.length());
                    } else {
                        seen = r instanceof ParseResult.NotProxy ? "none" : r.toString();
                    }
                    String payload = StandardCharsets.UTF_8.decode(in).toString();
                    channel.send(ByteBuffer.wrap((name + " " + seen + "|" + payload).getBytes(StandardCharsets.UTF_8)),
                            from);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    // a client that went away
                }
            }
        }

        @Override
        public void close() throws Exception {
            channel.close();
            thread.join();
        }
    }
}
