package dev.aegis.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.config.HostPort;
import dev.aegis.config.ProxyProtocolConfig.Send;
import dev.aegis.proxyprotocol.ParseResult;
import dev.aegis.proxyprotocol.ProxyHeader;
import dev.aegis.proxyprotocol.ProxyHeaderParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code proxy_protocol.send} on TCP (SPEC §10): the header is the first thing every backend
 * connection carries, names the client socket and the address it connected to, and the client's
 * bytes follow it unchanged. The backend parses it with {@link ProxyHeaderParser}.
 */
class TcpProxyHeaderTest {

    @Test
    void v1HeaderNamesTheClientAndTheAddressItConnectedTo() throws Exception {
        assertHeaderSeen(Send.V1, "v1 TCP");
    }

    @Test
    void v2HeaderNamesTheClientAndTheAddressItConnectedTo() throws Exception {
        assertHeaderSeen(Send.V2, "v2 TCP");
    }

    @Test
    void withoutSendTheBackendSeesOnlyTheClientsBytes() throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS, List.of(backend.address()));
             Socket client = proxy.connect()) {
            client.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = reader(client);
            assertEquals("none", in.readLine());
            assertEquals("hello", in.readLine());
        }
    }

    @Test
    void aRefusedBackendIsRetriedAndTheNextGetsTheWholeHeaderOnce() throws Exception {
        InetSocketAddress refused = new InetSocketAddress(InetAddress.getLoopbackAddress(), TestServers.closedPort());
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withProxyHeader(Send.V2),
                     List.of(refused, backend.address()));
             Socket first = proxy.connect();
             Socket second = proxy.connect()) {
            // round robin: one of the two connections starts on the refused backend and is retried
            for (Socket client : List.of(first, second)) {
                client.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = reader(client);
                assertEquals(expectedLine("v2 TCP", client, proxy), in.readLine());
                assertEquals("hello", in.readLine());
            }
        }
    }

    /**
     * The header waits for the client's first bytes only while there are none: a backend that
     * speaks first (SMTP, a database greeting) gets it with the client silent, pipes waiting in
     * the blocking read (parking off) or in the readiness wait (parking on, the default).
     */
    @ParameterizedTest(name = "parking {0}")
    @ValueSource(booleans = {true, false})
    void aBackendThatSpeaksFirstGetsTheHeaderWhileTheClientIsSilent(boolean parking) throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withProxyHeader(Send.V2), List.of(backend.address()))) {
            proxy.listener.parkAfter(parking ? Duration.ofSeconds(1) : Duration.ZERO);
            try (Socket client = proxy.connect()) {
                client.setSoTimeout(5000);
                BufferedReader in = reader(client);
                assertEquals(expectedLine("v2 TCP", client, proxy), in.readLine()); // nothing written by the client
                client.getOutputStream().write("later\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("later", in.readLine());
            }
        }
    }

    @ParameterizedTest(name = "parking {0}")
    @ValueSource(booleans = {true, false})
    void aClientThatSendsOnlyItsFinStillGivesTheBackendTheHeaderFirst(boolean parking) throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withProxyHeader(Send.V1), List.of(backend.address()))) {
            proxy.listener.parkAfter(parking ? Duration.ofSeconds(1) : Duration.ZERO);
            try (Socket client = proxy.connect()) {
                client.setSoTimeout(5000);
                client.shutdownOutput();
                BufferedReader in = reader(client);
                assertEquals(expectedLine("v1 TCP", client, proxy), in.readLine());
                assertEquals(null, in.readLine()); // then the FIN passed on, and the backend's
            }
        }
    }

    private static void assertHeaderSeen(Send send, String kind) throws Exception {
        try (HeaderBackend backend = new HeaderBackend();
             ProxyFixture proxy = new ProxyFixture(ProxyFixture.DEFAULTS.withProxyHeader(send), List.of(backend.address()));
             Socket client = proxy.connect()) {
            // the client speaks at once: its bytes must still come after the header
            client.getOutputStream().write("hello\nworld\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = reader(client);
            assertEquals(expectedLine(kind, client, proxy), in.readLine());
            assertEquals("hello", in.readLine());
            assertEquals("world", in.readLine());
        }
    }

    private static String expectedLine(String kind, Socket client, ProxyFixture proxy) {
        return kind + " " + HostPort.format((InetSocketAddress) client.getLocalSocketAddress())
                + " " + HostPort.format(proxy.listener.localAddress());
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    /**
     * Reads a PROXY header at the start of every connection and answers one line saying what it
     * saw ({@code v2 TCP 127.0.0.1:50000 127.0.0.1:40000}, or {@code none}), then echoes the rest.
     */
    static final class HeaderBackend implements AutoCloseable {

        private final ServerSocket server;

        HeaderBackend() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(this::acceptLoop);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.getLocalSocketAddress();
        }

        private void acceptLoop() {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return; // closed
                }
                Thread.ofVirtual().start(() -> serve(s));
            }
        }

        private static void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                byte[] buf = new byte[4096];
                int n = 0;
                ParseResult r = ParseResult.NOT_PROXY;
                while (n < buf.length) {
                    int read = in.read(buf, n, buf.length - n);
                    if (read < 0) {
                        return;
                    }
                    n += read;
                    r = ProxyHeaderParser.parse(buf, 0, n);
                    if (!(r instanceof ParseResult.NeedMore)) {
                        break;
                    }
                }
                int skip = 0;
                String line;
                if (r instanceof ParseResult.Parsed(ProxyHeader h)) {
                    line = "v" + h.version() + " " + h.transport() + " " + HostPort.format(h.source())
                            + " " + HostPort.format(h.destination());
                    skip = h.length();
                } else {
                    line = r instanceof ParseResult.NotProxy ? "none" : r.toString();
                }
                out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                out.write(Arrays.copyOfRange(buf, skip, n));
                in.transferTo(out);
            } catch (IOException ignored) {
                // the test closed its side
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
