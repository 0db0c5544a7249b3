package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.Cidrs;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import dev.aegis.config.ProxyProtocolConfig.Send;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import dev.aegis.proxyprotocol.ProxyHeaderEncoder;
import dev.aegis.tcp.TcpProxyHeaderTest.HeaderBackend;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code proxy_protocol.accept_from} on TCP (SPEC §10): a listed source must start with a PROXY
 * header, whose client is the client from then on; the bytes after it pass on unchanged; a missing,
 * malformed, truncated or late header closes the connection before any backend hears of it.
 */
class TcpAcceptProxyHeaderTest {

    private static final Cidrs LOOPBACK = Cidrs.parse(List.of("127.0.0.1/32", "::1/128"));
    private static final InetSocketAddress REAL_CLIENT = new InetSocketAddress("192.0.2.10", 40000);
    private static final InetSocketAddress REAL_DEST = new InetSocketAddress("198.51.100.1", 443);

    @Test
    void v1HeaderWithDataInTheSameSegmentNamesTheClientForTheSendHeader() throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(
                     ProxyFixture.DEFAULTS.withAcceptFrom(LOOPBACK).withProxyHeader(Send.V2), List.of(backend.address()));
             Socket client = proxy.connect()) {
            byte[] header = ProxyHeaderEncoder.v1(REAL_CLIENT, REAL_DEST);
            client.getOutputStream().write(concat(header, "hello\n".getBytes(StandardCharsets.US_ASCII)));
            BufferedReader in = reader(client);
            assertEquals("v2 TCP 192.0.2.10:40000 " + HostPort.format(proxy.listener.localAddress()), in.readLine());
            assertEquals("hello", in.readLine());
        }
    }

    @Test
    void v2HeaderSplitOverSeveralWritesThenDataPassesUnchanged() throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(
                     ProxyFixture.DEFAULTS.withAcceptFrom(LOOPBACK).withProxyHeader(Send.V1), List.of(backend.address()));
             Socket client = proxy.connect()) {
            client.setTcpNoDelay(true);
            byte[] header = ProxyHeaderEncoder.v2(Transport.TCP, REAL_CLIENT, REAL_DEST);
            OutputStream out = client.getOutputStream();
            for (byte b : header) { // one segment per byte: the header arrives in pieces
                out.write(b);
                out.flush();
            }
            out.write("world\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = reader(client);
            assertEquals("v1 TCP 192.0.2.10:40000 " + HostPort.format(proxy.listener.localAddress()), in.readLine());
            assertEquals("world", in.readLine());
        }
    }

    @Test
    void withoutSendTheBackendGetsOnlyTheBytesAfterTheHeader() throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withAcceptFrom(LOOPBACK), List.of(backend.address()));
             Socket client = proxy.connect()) {
            client.getOutputStream().write(concat(ProxyHeaderEncoder.v1(REAL_CLIENT, REAL_DEST),
                    "hello\n".getBytes(StandardCharsets.US_ASCII)));
            BufferedReader in = reader(client);
            assertEquals("none", in.readLine());
            assertEquals("hello", in.readLine());
        }
    }

    @Test
    void aMissingHeaderFromAListedSourceClosesTheConnectionAndIsCounted() throws Exception {
        assertRejected(ProxyFixture.DEFAULTS, client -> client.getOutputStream()
                .write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aMalformedHeaderIsRejected() throws Exception {
        assertRejected(ProxyFixture.DEFAULTS, client -> client.getOutputStream()
                .write("PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\nhello".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aTruncatedHeaderIsRejected() throws Exception {
        assertRejected(ProxyFixture.DEFAULTS, client -> {
            byte[] header = ProxyHeaderEncoder.v2(Transport.TCP, REAL_CLIENT, REAL_DEST);
            client.getOutputStream().write(header, 0, header.length - 3);
            client.shutdownOutput();
        });
    }

    @Test
    void aHeaderNotCompleteWithinTheConnectTimeoutIsRejected() throws Exception {
        TcpSettings quick = new TcpSettings(Duration.ofMillis(300), Duration.ofSeconds(60), Duration.ofSeconds(30),
                2, 0, 0, false);
        assertRejected(quick, client -> client.getOutputStream()
                .write("PROXY TCP4 192.0.2.10".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aSourceNotListedIsReadAsPlainData() throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(
                     ProxyFixture.DEFAULTS.withAcceptFrom(Cidrs.parse(List.of("10.0.0.0/8"))), List.of(backend.address()));
             Socket client = proxy.connect()) {
            // a header from an unlisted source is data like any other: the backend sees it
            client.getOutputStream().write(ProxyHeaderEncoder.v1(REAL_CLIENT, REAL_DEST));
            assertEquals("v1 TCP 192.0.2.10:40000 198.51.100.1:443", reader(client).readLine());
            assertEquals(0, proxy.listener.stats().rejected(RejectReason.BAD_PROXY_HEADER));
        }
    }

    /**
     * Consistent hash keys on the header's client: a connection from 127.0.0.1 carrying client
     * 127.0.0.N reaches the backend that a plain connection from 127.0.0.N itself reaches.
     */
    @Test
    void consistentHashUsesTheHeadersClient() throws Exception {
        List<NamedBackend> backends = new ArrayList<>();
        try {
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                NamedBackend b = new NamedBackend("b" + i);
                backends.add(b);
                addresses.add(b.address());
            }
            try (ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withAcceptFrom(LOOPBACK), addresses, 0,
                    new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Algorithm.CONSISTENT_HASH)) {
                Set<String> reached = new HashSet<>();
                for (int n = 2; n < 18; n++) {
                    InetAddress source = InetAddress.getByName("127.0.0." + n);
                    String direct = nameFrom(proxy, source, null);
                    byte[] header = ProxyHeaderEncoder.v2(Transport.TCP, new InetSocketAddress(source, 5000 + n), REAL_DEST);
                    String viaHeader = nameFrom(proxy, InetAddress.getByName("127.0.0.1"), header);
                    assertEquals(direct, viaHeader, "client 127.0.0." + n);
                    reached.add(viaHeader);
                }
                // the sender is the same for all: one backend only would mean it hashed the sender
                assertTrue(reached.size() > 1, "reached " + reached);
            }
        } finally {
            for (NamedBackend b : backends) {
                b.close();
            }
        }
    }

    private static String nameFrom(ProxyFixture proxy, InetAddress source, byte[] header) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.listener.localAddress().getPort(), source, 0)) {
            s.setSoTimeout(10_000);
            if (header != null) {
                s.getOutputStream().write(header);
            }
            return reader(s).readLine();
        }
    }

    private interface ClientAction {
        void accept(Socket client) throws IOException;
    }

    private static void assertRejected(TcpSettings settings, ClientAction send) throws Exception {
        try (NamedBackend backend = new NamedBackend("b");
             ProxyFixture proxy = new ProxyFixture(settings.withAcceptFrom(LOOPBACK), List.of(backend.address()));
             Socket client = proxy.connect()) {
            send.accept(client);
            assertEquals(0, readToEnd(client.getInputStream()).length, "nothing comes back");
            await().atMost(Duration.ofSeconds(5)).until(
                    () -> proxy.listener.stats().rejected(RejectReason.BAD_PROXY_HEADER) == 1);
            assertEquals(0, backend.accepted.get(), "no backend connection");
        }
    }

    /** Everything until EOF or a reset (a closed connection either way). */
    private static byte[] readToEnd(InputStream in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (IOException reset) {
            // closed with a reset: the same for this test
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    /** Answers every connection with its name on a line, then closes; counts connections. */
    static final class NamedBackend implements AutoCloseable {
        final AtomicInteger accepted = new AtomicInteger();
        private final ServerSocket server;
        private final String name;

        NamedBackend(String name) throws IOException {
            this.name = name;
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(this::acceptLoop);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        private void acceptLoop() {
            while (true) {
                try (Socket s = server.accept()) {
                    accepted.incrementAndGet();
                    s.getOutputStream().write((name + "\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    if (server.isClosed()) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
