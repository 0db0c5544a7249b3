package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.config.ConfigLoader;
import dev.aegis.control.ProxyStatus;
import dev.aegis.tcp.RejectReason;
import dev.aegis.tls.ClientHelloParser;
import dev.aegis.tls.ClientHelloResult;
import java.io.BufferedReader;
import java.io.File;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tls_routes} (SPEC §10) through a running core on loopback: real TLS clients (the JDK's
 * SSLSocket and SSLEngine) reach the route of their server name, everything else the default pool,
 * and each backend receives the client's bytes unchanged. The backends speak no TLS: they read the
 * ClientHello and answer with their name.
 */
class TlsRoutesTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private Aegis aegis;

    @AfterEach
    void tearDown() throws Exception {
        if (aegis != null) {
            aegis.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    private TlsBackend backend(String name, String banner) throws IOException {
        TlsBackend b = new TlsBackend(name, banner);
        resources.add(b);
        return b;
    }

    /** A {@code proxy:} file with the default pool ({@code backends}, may be empty) and two routes. */
    private int start(List<TlsBackend> defaults, TlsBackend a, TlsBackend w) throws Exception {
        StringBuilder pool = new StringBuilder();
        for (TlsBackend d : defaults) {
            pool.append(pool.isEmpty() ? "" : ", ").append("{ address: \"").append(d.address()).append("\" }");
        }
        String yaml = """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ %s ]
                  tls_routes:
                    - server_names: ["a.test", "alias.test"]
                      backends: [ { address: "%s" } ]
                    - server_names: ["*.w.test"]
                      backends: [ { address: "%s" } ]
                  traffic: { timeout: { client_hello: 300ms } }
                admin: { api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0" }
                logging: { access_log: false }
                shutdown: { drain_timeout: 1s }
                """.formatted(pool, a.address(), w.address());
        Path file = dir.resolve("aegis.yaml");
        Files.writeString(file, yaml);
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        return aegis.service().tcpListener().orElseThrow().localAddress().getPort();
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(LOOPBACK, port);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        return s;
    }

    /**
     * A JDK SSLSocket handshake through the proxy, with or without SNI; it fails (the backend
     * answers in plain text), and the backend that got the ClientHello tells what it saw.
     */
    private static void sslHandshake(int port, String serverName) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        Socket raw = connect(port);
        // an IP literal as the host: the JDK sends no SNI for it, so only setServerNames decides
        try (SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(raw, "127.0.0.1", port, true)) {
            SSLParameters parameters = ssl.getSSLParameters();
            parameters.setServerNames(serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
            ssl.setSSLParameters(parameters);
            assertThrows(IOException.class, ssl::startHandshake);
        }
    }

    private static void assertSni(String expected, byte[] hello) {
        assertNotNull(hello, "no ClientHello reached this backend");
        ClientHelloResult result = ClientHelloParser.parse(ByteBuffer.wrap(hello));
        assertEquals(expected == null ? ClientHelloResult.NO_SNI : new ClientHelloResult.Sni(expected), result);
    }

    @Test
    void sslSocketClientsReachTheRouteOfTheirServerName() throws Exception {
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        int port = start(List.of(fallback), a, w);

        sslHandshake(port, "a.test");
        assertSni("a.test", a.next());
        sslHandshake(port, "ALIAS.test"); // names compare case-insensitively
        assertSni("alias.test", a.next());
        sslHandshake(port, "x.w.test");
        assertSni("x.w.test", w.next());
        sslHandshake(port, "w.test"); // a wildcard covers exactly one label
        assertSni("w.test", fallback.next());
        sslHandshake(port, "a.b.w.test");
        assertSni("a.b.w.test", fallback.next());
        sslHandshake(port, "other.test");
        assertSni("other.test", fallback.next());
        sslHandshake(port, null);
        assertSni(null, fallback.next());

        assertTrue(a.received.isEmpty() && w.received.isEmpty() && fallback.received.isEmpty(),
                "each hello reached one backend only");
    }

    @Test
    void theBytesReadForRoutingReachTheBackendUnchangedEvenWhenSplit() throws Exception {
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        int port = start(List.of(fallback), a, w);
        byte[] hello = jdkHello("x.w.test");

        try (Socket s = connect(port)) {
            OutputStream out = s.getOutputStream();
            // three segments: a record header cut in two, then the rest
            out.write(hello, 0, 3);
            out.flush();
            out.write(hello, 3, 40);
            out.flush();
            out.write(hello, 43, hello.length - 43);
            out.flush();
            assertEquals("w sni=x.w.test", readLine(s));
        }
        assertArrayEquals(hello, w.next());
    }

    @Test
    void aPlainTextClientGoesToTheDefaultPoolWithItsBytesUnchanged() throws Exception {
        TlsBackend fallback = backend("default", null);
        int port = start(List.of(fallback), backend("a", null), backend("w", null));

        try (Socket s = connect(port)) {
            s.getOutputStream().write("GET / HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("default line=GET / HTTP/1.0", readLine(s));
        }
        assertArrayEquals("GET / HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII), fallback.next());
    }

    @Test
    void aServerThatSpeaksFirstStillWorksAfterClientHelloTimesOut() throws Exception {
        TlsBackend smtp = backend("smtp", "220 smtp.test ESMTP");
        int port = start(List.of(smtp), backend("a", null), backend("w", null));

        try (Socket s = connect(port)) {
            long t0 = System.nanoTime();
            BufferedReader in = reader(s);
            assertEquals("220 smtp.test ESMTP", in.readLine());
            long waitedMs = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertTrue(waitedMs >= 250, "the banner came after client_hello (300ms), not at once: " + waitedMs + "ms");
            s.getOutputStream().write("EHLO client.test\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("smtp line=EHLO client.test", in.readLine());
        }
    }

    @Test
    void noRouteAndAnEmptyDefaultPoolClosesTheConnectionAsNoRoute() throws Exception {
        TlsBackend a = backend("a", null);
        int port = start(List.of(), a, backend("w", null));

        try (Socket s = connect(port)) {
            s.getOutputStream().write(jdkHello("nothing.test"));
            assertEquals(-1, readOrReset(s));
        }
        await().atMost(Duration.ofSeconds(10)).until(() ->
                aegis.status().services().get(0).tcpTotals().rejected(RejectReason.NO_ROUTE) == 1);

        sslHandshake(port, "a.test"); // the routes still work
        assertSni("a.test", a.next());
    }

    @Test
    void eachRouteIsAPoolOfItsOwnInTheStatus() throws Exception {
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        int port = start(List.of(fallback), a, w);
        sslHandshake(port, "a.test");
        assertSni("a.test", a.next());

        ProxyStatus.ServiceStatus status = aegis.status().services().get(0);
        assertEquals(List.of("tcp", "tls:a.test", "tls:*.w.test"),
                status.pools().stream().map(ProxyStatus.Pool::name).toList());
        ProxyStatus.Pool aPool = status.pools().get(1);
        assertEquals(List.of(a.address()), aPool.backends().stream().map(ProxyStatus.Backend::id).toList());
        await().atMost(Duration.ofSeconds(10)).until(() ->
                aegis.status().services().get(0).pools().get(1).backends().get(0).totalConnections() == 1);
        assertEquals(0, aegis.status().services().get(0).pools().get(0).backends().get(0).totalConnections());
    }

    @Test
    void aReloadKeepsTheStateOfARouteItKeepsAndDropsTheRoutesItRemoves() throws Exception {
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        TlsBackend c = backend("c", null);
        int port = start(List.of(fallback), a, w);
        sslHandshake(port, "a.test");
        assertSni("a.test", a.next());
        var aPool = aegis.service().tlsPools().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> aPool.current().backends().get(0).totalConnections() == 1);

        Files.writeString(dir.resolve("aegis.yaml"), """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ { address: "%s" } ]
                  tls_routes:
                    - server_names: ["c.test"]
                      backends: [ { address: "%s" } ]
                    - server_names: ["a.test"]
                      backends: [ { address: "%s" } ]
                  traffic: { timeout: { client_hello: 300ms } }
                admin: { api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0" }
                logging: { access_log: false }
                shutdown: { drain_timeout: 1s }
                """.formatted(fallback.address(), c.address(), a.address()));
        var reload = aegis.reload();
        assertTrue(reload.ok(), reload.errors().toString());

        assertEquals(List.of("tcp", "tls:c.test", "tls:a.test"),
                aegis.status().services().get(0).pools().stream().map(ProxyStatus.Pool::name).toList());
        assertTrue(aPool == aegis.service().tlsPools().get(1), "the kept route keeps its pool");
        assertEquals(1, aPool.current().backends().get(0).totalConnections());
        sslHandshake(port, "c.test");
        assertSni("c.test", c.next());
        sslHandshake(port, "x.w.test"); // its route is gone: the default pool
        assertSni("x.w.test", fallback.next());
        sslHandshake(port, "a.test");
        assertSni("a.test", a.next());
    }

    @Test
    void withProxyProtocolTheHeaderComesFirstThenTheClientHelloUnchanged() throws Exception {
        byte[] hello = jdkHello("a.test");
        try (ServerSocket routed = new ServerSocket(0, 5, LOOPBACK)) {
            Path file = dir.resolve("aegis.yaml");
            Files.writeString(file, """
                    proxy:
                      listen: { tcp: "127.0.0.1:0" }
                      backends: []
                      proxy_protocol: { send: v2 }
                      tls_routes:
                        - server_names: ["a.test"]
                          backends: [ { address: "127.0.0.1:%d" } ]
                    admin: { api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0" }
                    logging: { access_log: false }
                    """.formatted(routed.getLocalPort()));
            aegis = new Aegis(file, ConfigLoader.load(file).config());
            aegis.start();
            int port = aegis.service().tcpListener().orElseThrow().localAddress().getPort();
            try (Socket client = connect(port)) {
                client.getOutputStream().write(hello);
                routed.setSoTimeout(10_000);
                try (Socket backend = routed.accept()) {
                    backend.setSoTimeout(10_000);
                    DataInputStream in = new DataInputStream(backend.getInputStream());
                    byte[] fixed = new byte[16];
                    in.readFully(fixed);
                    assertArrayEquals(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A},
                            Arrays.copyOf(fixed, 12), "a PROXY v2 signature first");
                    in.readFully(new byte[(fixed[14] & 0xff) << 8 | (fixed[15] & 0xff)]);
                    byte[] after = new byte[hello.length];
                    in.readFully(after);
                    assertArrayEquals(hello, after);
                }
            }
        }
    }

    // ---- clients no one here wrote

    @Test
    void opensslSClientReachesTheRouteOfItsServerNameAndNoSniTheDefault() throws Exception {
        Path openssl = onPath("openssl");
        assumeTrue(openssl != null, "openssl is not installed");
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        int port = start(List.of(fallback), a, w);

        run(openssl.toString(), "s_client", "-connect", "127.0.0.1:" + port, "-servername", "a.test", "-alpn", "h2");
        assertSni("a.test", a.next());
        run(openssl.toString(), "s_client", "-connect", "127.0.0.1:" + port, "-servername", "x.w.test");
        assertSni("x.w.test", w.next());
        run(openssl.toString(), "s_client", "-connect", "127.0.0.1:" + port, "-noservername");
        assertSni(null, fallback.next());
    }

    @Test
    void curlWithResolveReachesTheRouteOfItsHostName() throws Exception {
        Path curl = onPath("curl");
        assumeTrue(curl != null, "curl is not installed");
        TlsBackend fallback = backend("default", null);
        TlsBackend a = backend("a", null);
        TlsBackend w = backend("w", null);
        int port = start(List.of(fallback), a, w);

        for (String host : List.of("alias.test", "deep.w.test", "elsewhere.test")) {
            run(curl.toString(), "-sk", "--max-time", "10", "--resolve", host + ":" + port + ":127.0.0.1",
                    "https://" + host + ":" + port + "/");
        }
        assertSni("alias.test", a.next());
        assertSni("deep.w.test", w.next());
        assertSni("elsewhere.test", fallback.next());
    }

    /** Runs a client to its end (it fails: the backends speak no TLS), stdin closed at once. */
    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        process.getOutputStream().close();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    private static Path onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(d, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    // ---- helpers

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static String readLine(Socket s) throws IOException {
        return reader(s).readLine();
    }

    /** -1 for an orderly close; a reset counts as closed too. */
    private static int readOrReset(Socket s) throws IOException {
        try {
            return s.getInputStream().read();
        } catch (SocketException e) {
            return -1;
        }
    }

    /** The ClientHello a JDK SSLEngine sends first, with SNI {@code serverName}. */
    static byte[] jdkHello(String serverName) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        engine.setSSLParameters(parameters);
        engine.beginHandshake();
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
        assertEquals(SSLEngineResult.Status.OK, result.getStatus());
        return Arrays.copyOf(out.array(), out.position());
    }
}
