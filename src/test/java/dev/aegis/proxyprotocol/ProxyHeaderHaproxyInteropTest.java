package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.concat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.proxyprotocol.ParseResult.NeedMore;
import dev.aegis.proxyprotocol.ParseResult.Parsed;
import dev.aegis.proxyprotocol.ProxyHeader.Command;
import dev.aegis.proxyprotocol.ProxyHeader.Family;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against software no one here wrote: HAProxy, when installed (skipped otherwise). HAProxy's
 * {@code send-proxy}, {@code send-proxy-v2} and {@code send-proxy-v2} with a CRC32C TLV are read by
 * our parser; our encoder's v1 and v2 headers are accepted by HAProxy's {@code accept-proxy}, which
 * relays the addresses they carry.
 */
class ProxyHeaderHaproxyInteropTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;
    private ServerSocket backend;
    private Thread acceptor;
    private Process haproxy;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private int v1Port;
    private int v2Port;
    private int crcPort;
    private int acceptPort;

    /** What the backend read: the header, and the first payload bytes after it. */
    record Received(ProxyHeader header, String payload) {
    }

    @BeforeEach
    void start() throws Exception {
        assumeTrue(haproxyInstalled(), "haproxy is not installed");
        backend = new ServerSocket(0, 50, LOOPBACK);
        acceptor = Thread.ofPlatform().name("pp-interop-backend").start(this::acceptLoop);
        v1Port = freePort();
        v2Port = freePort();
        crcPort = freePort();
        acceptPort = freePort();
        String server = "127.0.0.1:" + backend.getLocalPort();
        String config = """
                defaults
                    mode tcp
                    timeout connect 2s
                    timeout client 10s
                    timeout server 10s
                listen v1
                    bind 127.0.0.1:%d
                    server s %s send-proxy
                listen v2
                    bind 127.0.0.1:%d
                    server s %s send-proxy-v2
                listen v2crc
                    bind 127.0.0.1:%d
                    server s %s send-proxy-v2 proxy-v2-options crc32c
                listen accept
                    bind 127.0.0.1:%d accept-proxy
                    server s %s send-proxy-v2
                """.formatted(v1Port, server, v2Port, server, crcPort, server, acceptPort, server);
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, config);
        haproxy = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            try (Socket s = new Socket(LOOPBACK, acceptPort)) {
                return haproxy.isAlive() && s.isConnected();
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (haproxy != null) {
            haproxy.destroy();
            haproxy.waitFor(5, TimeUnit.SECONDS);
        }
        if (backend != null) {
            backend.close();
            acceptor.join(5_000);
        }
    }

    @Test
    void readsHaproxysSendProxyLine() throws Exception {
        try (Socket client = new Socket(LOOPBACK, v1Port)) {
            client.getOutputStream().write(ascii("hello"));
            Received r = next();
            assertEquals(new ProxyHeader(1, Command.PROXY, Transport.TCP, Family.INET,
                    (InetSocketAddress) client.getLocalSocketAddress(), (InetSocketAddress) client.getRemoteSocketAddress(),
                    r.header().length()), r.header());
            assertEquals("hello", r.payload());
        }
    }

    @Test
    void readsHaproxysSendProxyV2WithAndWithoutCrc32c() throws Exception {
        for (int port : new int[] {v2Port, crcPort}) {
            try (Socket client = new Socket(LOOPBACK, port)) {
                client.getOutputStream().write(ascii("hello"));
                Received r = next();
                assertEquals(new ProxyHeader(2, Command.PROXY, Transport.TCP, Family.INET,
                        (InetSocketAddress) client.getLocalSocketAddress(),
                        (InetSocketAddress) client.getRemoteSocketAddress(), r.header().length()), r.header());
                assertEquals("hello", r.payload());
                if (port == crcPort) {
                    assertEquals(28 + 7, r.header().length(), "the CRC32C TLV (checked by the parser) is there");
                }
            }
        }
    }

    @Test
    void haproxyAcceptsOurV1AndV2HeadersAndRelaysTheirAddresses() throws Exception {
        InetSocketAddress[][] pairs = {
            {ProxyHeaderEncoderTest.at("203.0.113.7", 4242), ProxyHeaderEncoderTest.at("198.51.100.1", 443)},
            {ProxyHeaderEncoderTest.at("2001:db8::7", 65535), ProxyHeaderEncoderTest.at("2001:db8::1", 0)},
            {ProxyHeaderEncoderTest.at("203.0.113.8", 1), ProxyHeaderEncoderTest.at("2001:db8::1", 2)}};
        for (InetSocketAddress[] pair : pairs) {
            for (int version = 1; version <= 2; version++) {
                if (version == 1 && pair == pairs[2]) {
                    continue; // v1 says UNKNOWN for mixed families: nothing to relay
                }
                byte[] header = version == 1
                        ? ProxyHeaderEncoder.v1(pair[0], pair[1])
                        : ProxyHeaderEncoder.v2(Transport.TCP, pair[0], pair[1]);
                try (Socket client = new Socket(LOOPBACK, acceptPort)) {
                    client.getOutputStream().write(concat(header, ascii("hello")));
                    Received r = next();
                    String what = "v" + version + " " + Arrays.toString(pair);
                    // the mixed pair travels as INET6 with ::ffff:203.0.113.8, read back as the IPv4 address
                    assertEquals(pair[0], r.header().source(), what);
                    assertEquals(pair[1], r.header().destination(), what);
                    assertEquals("hello", r.payload(), what);
                }
            }
        }
    }

    private Received next() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        assertInstanceOf(Received.class, r, "nothing reached the backend; see " + dir.resolve("haproxy.log"));
        assertInstanceOf(ProxyHeader.class, r.header(), r.payload());
        return r;
    }

    private void acceptLoop() {
        while (!backend.isClosed()) {
            try (Socket s = backend.accept()) {
                s.setSoTimeout(10_000);
                readHeader(s.getInputStream(), s.getOutputStream());
            } catch (IOException e) {
                // closed at the end of the test, or a connection that went away: next one
            }
        }
    }

    /** Reads as the proxy will: bytes as they come, parsed again until the header is whole. */
    private void readHeader(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[ProxyHeader.V2_MAX_LENGTH + 64];
        int n = 0;
        while (true) {
            ParseResult r = ProxyHeaderParser.parse(buf, 0, n);
            if (r instanceof Parsed p) {
                int length = p.header().length();
                while (n < length + 5) {
                    int got = in.read(buf, n, buf.length - n);
                    if (got < 0) {
                        break;
                    }
                    n += got;
                }
                received.add(new Received(p.header(), new String(buf, length, n - length, StandardCharsets.US_ASCII)));
                return;
            }
            if (!(r instanceof NeedMore)) {
                received.add(new Received(null, "refused: " + r));
                return;
            }
            int got = in.read(buf, n, buf.length - n);
            if (got < 0) {
                return;
            }
            n += got;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    private static boolean haproxyInstalled() {
        try {
            Process p = new ProcessBuilder("sh", "-c", "command -v haproxy").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
