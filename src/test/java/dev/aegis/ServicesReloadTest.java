package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.ConfigLoader;
import dev.aegis.control.ConnectTimes;
import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloads of a file with several services (SPEC §9) against a real core on loopback: what a
 * rejected reload leaves (nothing changed, nothing bound), what a removed service keeps serving
 * and for how long, moves and renames, overlapping reloads, port-less health checks, per-service
 * draining and limits.
 */
class ServicesReloadTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    /** The service names the core asked a connect-latency recorder for (a metric series each). */
    private final List<String> recorders = new CopyOnWriteArrayList<>();
    private final List<String> forgotten = new CopyOnWriteArrayList<>();
    private Aegis aegis;
    private Path file;

    @AfterEach
    void tearDown() throws Exception {
        if (aegis != null) {
            aegis.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    // ------------------------------------------------------------------ config

    /** One entry of {@code services:}; {@code extra} is YAML at the entry's indentation (4 spaces). */
    private record Svc(String name, List<String> tcp, List<String> udp, List<String> backends,
                       List<String> udpBackends, String extra) {

        Svc withTcp(String... addresses) {
            return new Svc(name, List.of(addresses), udp, backends, udpBackends, extra);
        }

        Svc withUdp(String... addresses) {
            return new Svc(name, tcp, List.of(addresses), backends, udpBackends, extra);
        }

        Svc withUdpBackends(String... addresses) {
            return new Svc(name, tcp, udp, backends, List.of(addresses), extra);
        }

        Svc withExtra(String yaml) {
            return new Svc(name, tcp, udp, backends, udpBackends, yaml);
        }

        Svc named(String other) {
            return new Svc(other, tcp, udp, backends, udpBackends, extra);
        }

        String yaml() {
            StringBuilder b = new StringBuilder("  - name: ").append(name).append("\n    listen:\n");
            if (!tcp.isEmpty()) {
                b.append("      tcp: ").append(list(tcp)).append('\n');
            }
            if (!udp.isEmpty()) {
                b.append("      udp: ").append(list(udp)).append('\n');
            }
            b.append("    backends:\n");
            for (String a : backends) {
                b.append("      - address: \"").append(a).append("\"\n");
            }
            if (!udpBackends.isEmpty()) {
                b.append("    udp_backends:\n");
                for (String a : udpBackends) {
                    b.append("      - address: \"").append(a).append("\"\n");
                }
            }
            b.append(extra);
            return b.toString();
        }

        private static String list(List<String> addresses) {
            return addresses.stream().map(a -> "\"" + a + "\"").collect(Collectors.joining(", ", "[", "]"));
        }
    }

    private static Svc svc(String name, String... backends) {
        return new Svc(name, List.of(), List.of(), List.of(backends), List.of(), "");
    }

    private static String text(Svc... services) {
        StringBuilder b = new StringBuilder("services:\n");
        for (Svc s : services) {
            b.append(s.yaml());
        }
        b.append("""
                shutdown:
                  drain_timeout: 1s
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  access_log: false
                """);
        return b.toString();
    }

    /** Replaces the file in one step, so that a reload never reads half of it. */
    private void write(Svc... services) throws IOException {
        Path tmp = Files.createTempFile(dir, "next", ".yaml");
        Files.writeString(tmp, text(services));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void start(Svc... services) throws Exception {
        file = dir.resolve("aegis.yaml");
        write(services);
        aegis = new Aegis(file, ConfigLoader.load(file).config(), new ConnectTimes() {
            @Override
            public LongConsumer service(String name) {
                recorders.add(name);
                return nanos -> { };
            }

            @Override
            public void forget(String name) {
                forgotten.add(name);
            }
        });
        aegis.start();
    }

    // ------------------------------------------------------------------ helpers

    private TcpEcho tcpEcho() throws IOException {
        TcpEcho e = new TcpEcho();
        resources.add(e);
        return e;
    }

    private UdpEcho udpEcho(String name) throws IOException {
        return udpEcho(name, new InetSocketAddress(LOOPBACK, 0));
    }

    private UdpEcho udpEcho(String name, InetSocketAddress bind) throws IOException {
        UdpEcho e = new UdpEcho(name, bind);
        resources.add(e);
        return e;
    }

    private UdpClient udpClient(int port) throws IOException {
        UdpClient c = new UdpClient(port);
        resources.add(c);
        return c;
    }

    private ProxyStatus.ServiceStatus status(String name) {
        return aegis.status().services().stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no service " + name));
    }

    private List<String> serviceNames() {
        return aegis.status().services().stream().map(ProxyStatus.ServiceStatus::name).toList();
    }

    private static List<Integer> ports(List<ProxyStatus.Listener> listeners) {
        return listeners.stream().map(l -> l.address().getPort()).toList();
    }

    private int tcpPort(String service) {
        return status(service).tcpListeners().get(0).address().getPort();
    }

    private int udpPort(String service) {
        return status(service).udpListeners().get(0).address().getPort();
    }

    /** Ports nobody listens on now (bound and released; good enough on a test machine). */
    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            return s.getLocalPort();
        }
    }

    /** A port free for both protocols. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 50; i++) {
            int p = freeTcpPort();
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, p))) {
                return p;
            } catch (SocketException taken) {
                // try another
            }
        }
        throw new IOException("no port free for TCP and UDP");
    }

    private static void assertTcpFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(LOOPBACK, port));
        } catch (IOException e) {
            throw new AssertionError("tcp port " + port + " is still bound: " + e.getMessage(), e);
        }
    }

    private static void assertUdpFree(int port) {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
            // bound: free
        } catch (IOException e) {
            throw new AssertionError("udp port " + port + " is still bound: " + e.getMessage(), e);
        }
    }

    private static boolean udpFree(int port) {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, port))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A proxied TCP connection through an echo backend: every line sent comes back. */
    private static final class Conn implements AutoCloseable {
        final Socket socket;

        Conn(int port) throws IOException {
            socket = new Socket(LOOPBACK, port);
            socket.setSoTimeout(5_000);
        }

        void roundTrip(String msg) throws IOException {
            byte[] out = msg.getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(out);
            byte[] in = socket.getInputStream().readNBytes(out.length);
            assertEquals(msg, new String(in, StandardCharsets.UTF_8), "echoed through the proxy");
        }

        /** Reads until the proxy ends the connection: -1 (FIN) or a reset both count. */
        void awaitEnd() throws IOException {
            InputStream in = socket.getInputStream();
            try {
                while (in.read() != -1) {
                    // drain
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the connection was still open after 5 s", e);
            } catch (SocketException reset) {
                // closed by a reset
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void roundTrip(int port, String msg) throws IOException {
        try (Conn c = new Conn(port)) {
            c.roundTrip(msg);
        }
    }

    /** Whether a new connection to {@code port} is proxied (the echo answers). */
    private static boolean serves(int port) {
        try (Conn c = new Conn(port)) {
            c.socket.setSoTimeout(2_000);
            c.roundTrip("ping");
            return true;
        } catch (IOException | AssertionError e) {
            return false;
        }
    }

    /** A UDP echo server: answers {@code name:payload}; counts what it received. */
    static final class UdpEcho implements AutoCloseable {
        final DatagramSocket socket;
        final AtomicInteger received = new AtomicInteger();

        UdpEcho(String name, InetSocketAddress bind) throws IOException {
            socket = new DatagramSocket(bind);
            Thread.ofPlatform().daemon().name("udp-echo-" + name).start(() -> {
                byte[] buf = new byte[2048];
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    try {
                        socket.receive(p);
                    } catch (IOException closed) {
                        return;
                    }
                    received.incrementAndGet();
                    byte[] reply = (name + ":" + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8);
                    try {
                        socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                    } catch (IOException ignored) {
                        // the client went away
                    }
                }
            });
        }

        String id() {
            return "127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    /** A UDP client on its own port: one session key for the proxy. */
    static final class UdpClient implements AutoCloseable {
        final DatagramSocket socket;
        final int port;

        UdpClient(int port) throws IOException {
            this.port = port;
            socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
        }

        /** Sends {@code msg} and returns the reply, or null if none came within {@code waitMillis}. */
        String ask(String msg, int waitMillis) throws IOException {
            byte[] out = msg.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(out, out.length, new InetSocketAddress(LOOPBACK, port)));
            socket.setSoTimeout(waitMillis);
            byte[] buf = new byte[2048];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
            } catch (SocketTimeoutException | java.net.PortUnreachableException none) {
                return null;
            }
            return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
        }

        String ask(String msg) throws IOException {
            String reply = ask(msg, 2_000);
            assertNotNull(reply, "a reply to " + msg);
            return reply;
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    /**
     * Sockets of this process, read from /proc: listening TCP sockets and unconnected UDP sockets
     * (listeners and test servers; a UDP session's backend channel is connected). /proc/net/* lists
     * the whole network namespace, so only inodes this process holds a descriptor of are counted.
     */
    private static int ownSockets(boolean udp) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        String state = udp ? "07" : "0A";
        int n = 0;
        for (String table : udp ? List.of("udp", "udp6") : List.of("tcp", "tcp6")) {
            Path p = Path.of("/proc/self/net/" + table);
            if (!Files.exists(p)) {
                continue;
            }
            List<String> lines = Files.readAllLines(p); // once: other processes' sockets change it between reads
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals(state) && inodes.contains(f[9])) {
                    n++;
                }
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ 1. a reload that cannot bind

    @Test
    void aNewServiceWhoseAddressIsTakenIsRejectedAndReleasesWhatItBound() throws Exception {
        TcpEcho echoA = tcpEcho();
        TcpEcho echoB = tcpEcho();
        UdpEcho udpB = udpEcho("b");
        Svc a = svc("a", echoA.id()).withTcp("127.0.0.1:0");
        Svc b = svc("b", echoB.id()).withTcp("127.0.0.1:0").withUdp("127.0.0.1:0").withUdpBackends(udpB.id());
        start(a, b);
        int portA = tcpPort("a");
        List<Integer> tcpB = ports(status("b").tcpListeners());
        List<Integer> udpB0 = ports(status("b").udpListeners());
        UdpClient client = udpClient(udpPort("b"));
        assertEquals("b:hello", client.ask("hello"));
        try (Conn open = new Conn(portA)) {
            open.roundTrip("before");
            long acceptedA = status("a").tcpTotals().acceptedConnections();
            long createdB = status("b").udpTotals().sessionsCreated();
            recorders.clear();

            // d binds all of its addresses, c two of its three before the third is found taken
            int d1 = freePort();
            int d2 = freePort();
            int c1 = freePort();
            int c2 = freePort();
            try (ServerSocket foreign = new ServerSocket(0, 1, LOOPBACK)) {
                int taken = foreign.getLocalPort();
                Svc d = svc("d", echoA.id()).withTcp("127.0.0.1:" + d1).withUdp("127.0.0.1:" + d2);
                Svc c = svc("c", echoA.id()).withTcp("127.0.0.1:" + c1, "127.0.0.1:" + taken).withUdp("127.0.0.1:" + c2);
                write(a, b, d, c);
                ProxyControl.ReloadResult r = aegis.reload();
                assertFalse(r.ok(), "rejected");
                assertEquals(1, r.errors().size(), r.errors().toString());
                assertTrue(r.errors().get(0).contains("127.0.0.1:" + taken), "names the address: " + r.errors());

                assertEquals(List.of("a", "b"), serviceNames(), "no new service");
                assertEquals(List.of(portA), ports(status("a").tcpListeners()));
                assertEquals(tcpB, ports(status("b").tcpListeners()));
                assertEquals(udpB0, ports(status("b").udpListeners()));
                assertEquals(acceptedA, status("a").tcpTotals().acceptedConnections(), "a's counters as they were");
                assertEquals(createdB, status("b").udpTotals().sessionsCreated(), "b's counters as they were");
                assertEquals(List.of(), recorders, "no metric series for a service that never ran");
                // what the reload bound before it failed is released again
                assertTcpFree(d1);
                assertUdpFree(d2);
                assertTcpFree(c1);
                assertUdpFree(c2);
            }
            open.roundTrip("after"); // the open connection never noticed
        }
        roundTrip(portA, "new connection");
        assertEquals(2, tcpB.size() + udpB0.size());
        roundTrip(tcpB.get(0), "b still serves");
        assertEquals("b:again", client.ask("again"), "b's session carries on");
    }

    @Test
    void aChangedListenAddressThatIsTakenIsRejectedAndTheOldListenerServesOn() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("b");
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0");
        Svc b = svc("b", echo.id()).withUdp("127.0.0.1:0").withUdpBackends(udp.id());
        start(b, a);
        int portA = tcpPort("a");
        int portB = udpPort("b");
        long generation = aegis.status().generation();
        int fresh = freePort();
        int freshUdp = freePort();
        try (ServerSocket foreign = new ServerSocket(0, 1, LOOPBACK); Conn open = new Conn(portA)) {
            open.roundTrip("x");
            int taken = foreign.getLocalPort();
            // b moves first (bound), then a cannot bind its second address
            write(b.withUdp("127.0.0.1:" + freshUdp), a.withTcp("127.0.0.1:" + fresh, "127.0.0.1:" + taken));
            ProxyControl.ReloadResult r = aegis.reload();
            assertFalse(r.ok());
            assertTrue(r.errors().get(0).contains("127.0.0.1:" + taken), r.errors().toString());
            assertEquals(generation, aegis.status().generation());
            assertEquals(List.of(portA), ports(status("a").tcpListeners()));
            assertEquals(List.of(portB), ports(status("b").udpListeners()));
            assertEquals("127.0.0.1:0", status("a").config().listen().tcpAddresses().get(0).toString());
            assertTcpFree(fresh);
            assertUdpFree(freshUdp);
            open.roundTrip("y");
        }
        roundTrip(portA, "z");
        assertEquals("b:q", udpClient(portB).ask("q"));
    }

    // ------------------------------------------------------------------ 2. a removed service

    @Test
    void aRemovedServiceStopsAcceptingAtOnceAndItsOpenTrafficEndsByTheDrainDeadline() throws Exception {
        TcpEcho echoA = tcpEcho();
        TcpEcho echoB = tcpEcho();
        UdpEcho udpA = udpEcho("a");
        String check = "        health_check: { interval: 100ms, timeout: 1s }\n";
        // a's TCP backend is health-checked by TCP connects: every probe is an accept at echoA
        Svc a = new Svc("a", List.of("127.0.0.1:0"), List.of("127.0.0.1:0"), List.of(), List.of(udpA.id()), "");
        Svc b = svc("b", echoB.id()).withTcp("127.0.0.1:0");
        file = dir.resolve("aegis.yaml");
        String services = a.yaml().replace("    backends:\n", "    backends:\n      - address: \"" + echoA.id() + "\"\n" + check)
                + b.yaml();
        Files.writeString(file, text().replace("services:\n", "services:\n" + services));
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        int tcpA = tcpPort("a");
        int udpPortA = udpPort("a");
        int portB = tcpPort("b");
        await().atMost(WAIT).until(() -> echoA.accepted.get() >= 3); // probes arrive

        UdpClient session = udpClient(udpPortA);
        assertEquals("a:one", session.ask("one"));
        try (Conn open = new Conn(tcpA); Conn openB = new Conn(portB)) {
            open.roundTrip("before");
            openB.roundTrip("before");
            write(b);
            long t0 = System.nanoTime();
            assertTrue(aegis.reload().ok());
            assertEquals(List.of("b"), serviceNames());

            assertThrows(ConnectException.class, () -> new Socket(LOOPBACK, tcpA).close(), "a's TCP port is closed at once");
            open.roundTrip("during the drain"); // bytes both ways
            assertEquals("a:two", session.ask("two"), "the open session still gets replies");
            UdpClient newcomer = udpClient(udpPortA);
            assertEquals(null, newcomer.ask("new", 300), "no new session on a removed service");

            // a's backend is no longer probed (one probe may have been in flight)
            int probes = echoA.accepted.get();
            await().during(Duration.ofMillis(700)).atMost(WAIT).until(() -> echoA.accepted.get() <= probes + 1);

            open.awaitEnd();
            long took = System.nanoTime() - t0;
            assertTrue(took < Duration.ofSeconds(4).toNanos(), "closed by the 1 s drain deadline, took ms " + took / 1_000_000);
            await().atMost(WAIT).until(() -> udpFree(udpPortA));
            assertEquals(0, aegis.activeConnections() - 1, "only b's connection is left");
            openB.roundTrip("b untouched");
        }
    }

    @Test
    void anIdleRemovedServiceIsClosedWithoutWaitingForTheDeadline() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("a");
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0").withUdp("127.0.0.1:0").withUdpBackends(udp.id());
        Svc b = svc("b", echo.id()).withTcp("127.0.0.1:0");
        start(a, b);
        int udpA = udpPort("a");
        write(b);
        assertTrue(aegis.reload().ok());
        await().atMost(Duration.ofMillis(900)).until(() -> udpFree(udpA));
        await().atMost(Duration.ofSeconds(2)).until(() -> forgotten.contains("a")); // its metric series go too
        assertFalse(forgotten.contains("b"));
    }

    // ------------------------------------------------------------------ 3. moves and renames

    @Test
    void aReloadThatMovesAnAddressBetweenServicesIsRejected() throws Exception {
        TcpEcho echo = tcpEcho();
        int fixed = freePort();
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:" + fixed);
        Svc b = svc("b", echo.id()).withTcp("127.0.0.1:0");
        start(a, b);
        int portB = tcpPort("b");
        write(a.withTcp("127.0.0.1:0"), b.withTcp("127.0.0.1:" + fixed));
        ProxyControl.ReloadResult r = aegis.reload();
        assertFalse(r.ok());
        String e = String.join("\n", r.errors());
        assertTrue(e.contains("services.b") && e.contains("service a") && e.contains("127.0.0.1:" + fixed), e);
        assertEquals(List.of(fixed), ports(status("a").tcpListeners()));
        assertEquals(List.of(portB), ports(status("b").tcpListeners()));
        roundTrip(fixed, "a serves on");

        // a rename is a move too, unless the port is 0
        write(a.named("z"), b);
        assertFalse(aegis.reload().ok());
        assertEquals(List.of("a", "b"), serviceNames());
    }

    @Test
    void aServiceOnPortZeroCanBeRenamed() throws Exception {
        TcpEcho echo = tcpEcho();
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0");
        start(a);
        int old = tcpPort("a");
        write(a.named("z"));
        assertTrue(aegis.reload().ok());
        assertEquals(List.of("z"), serviceNames());
        roundTrip(tcpPort("z"), "renamed");
        assertThrows(ConnectException.class, () -> new Socket(LOOPBACK, old).close());
    }

    // ------------------------------------------------------------------ 4. overlapping reloads

    @Test
    void overlappingReloadsEndWithTheNewestFileAndLeakNoListener() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        int baseTcp = ownSockets(false);
        int baseUdp = ownSockets(true);
        int p1 = freePort();
        int p2 = freePort();
        int p3 = freePort();
        // A and B differ in every way a reload can: a moves (TCP and UDP), b comes and goes with
        // fixed ports, c and d exist in one file each, e keeps port 0
        Svc[] fileA = {
            svc("a", echo.id()).withTcp("127.0.0.1:" + p1).withUdp("127.0.0.1:" + p1).withUdpBackends(udp.id()),
            svc("b", echo.id()).withTcp("127.0.0.1:" + p3).withUdp("127.0.0.1:" + p3).withUdpBackends(udp.id()),
            svc("c", echo.id()).withTcp("127.0.0.1:0"),
            svc("e", echo.id()).withTcp("127.0.0.1:0", "localhost:0").withUdp("127.0.0.1:0").withUdpBackends(udp.id()),
        };
        Svc[] fileB = {
            svc("a", echo.id()).withTcp("127.0.0.1:" + p2).withUdp("127.0.0.1:" + p2).withUdpBackends(udp.id()),
            svc("d", echo.id()).withUdp("127.0.0.1:0", "localhost:0").withUdpBackends(udp.id()),
            svc("e", echo.id()).withTcp("127.0.0.1:0", "localhost:0").withUdp("127.0.0.1:0").withUdpBackends(udp.id()),
        };
        start(fileA);
        int threads = 4;
        int rounds = 15;
        CountDownLatch go = new CountDownLatch(1);
        List<String> failures = new CopyOnWriteArrayList<>();
        Object fileLock = new Object();
        AtomicLong writes = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < rounds; i++) {
                        synchronized (fileLock) {
                            write(writes.incrementAndGet() % 2 == 0 ? fileA : fileB);
                        }
                        ProxyControl.ReloadResult r = aegis.reload();
                        if (!r.ok()) {
                            failures.add(r.errors().toString());
                        }
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }));
        }
        go.countDown();
        for (Thread w : workers) {
            w.join(60_000);
        }
        assertEquals(List.of(), failures, "every reload applied");
        boolean lastIsA = writes.get() % 2 == 0;
        Svc[] newest = lastIsA ? fileA : fileB;
        assertEquals(java.util.Arrays.stream(newest).map(Svc::name).toList(), serviceNames(), "the newest file runs");
        int a = lastIsA ? p1 : p2;
        assertEquals(List.of(a), ports(status("a").tcpListeners()));
        assertEquals(List.of(a), ports(status("a").udpListeners()));
        int tcpListeners = 0;
        int udpListeners = 0;
        for (ProxyStatus.ServiceStatus s : aegis.status().services()) {
            tcpListeners += s.tcpListeners().size();
            udpListeners += s.udpListeners().size();
        }
        int expectedTcp = baseTcp + tcpListeners;
        int expectedUdp = baseUdp + udpListeners;
        // retired UDP listeners close at the next sweep once idle; TCP ones at once
        await().atMost(WAIT).untilAsserted(() -> {
            assertEquals(expectedTcp, ownSockets(false), "listening TCP sockets of this process");
            assertEquals(expectedUdp, ownSockets(true), "unconnected UDP sockets of this process");
        });
        int other = lastIsA ? p2 : p1;
        assertTcpFree(other);
        assertUdpFree(other);
        roundTrip(a, "a");
        assertEquals("u:a", udpClient(a).ask("a"));
    }

    // ------------------------------------------------------------------ 5. port-less backends

    @Test
    void aPortlessBackendIsCheckedOnTheServicesFirstListenPort() throws Exception {
        int first = freePort();
        int second = freePort();
        Svc p = new Svc("p", List.of("127.0.0.1:" + first, "127.0.0.1:" + second), List.of(), List.of(), List.of(), "");
        String yaml = p.yaml().replace("    backends:\n", """
                    backends:
                      - address: "127.0.0.2"
                        health_check: { interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1 }
                """);
        file = dir.resolve("aegis.yaml");
        Files.writeString(file, text().replace("services:\n", "services:\n" + yaml));
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        assertPortlessHealth(first);
    }

    @Test
    void aPortlessBackendOfAServiceOnPortZeroIsCheckedOnTheBoundPort() throws Exception {
        int udp = freePort();
        Svc p = new Svc("p", List.of("127.0.0.1:0"), List.of("127.0.0.1:" + udp), List.of(), List.of(), "");
        String yaml = p.yaml().replace("    backends:\n", """
                    backends:
                      - address: "127.0.0.2"
                        health_check: { interval: 100ms, timeout: 500ms, healthy_threshold: 1, unhealthy_threshold: 1 }
                """);
        file = dir.resolve("aegis.yaml");
        Files.writeString(file, text().replace("services:\n", "services:\n" + yaml));
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        assertPortlessHealth(tcpPort("p"));
    }

    private void assertPortlessHealth(int port) throws IOException {
        await().atMost(WAIT).until(() -> !tcpBackendHealthy("p"));
        try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.2"))) {
            Thread.ofVirtual().start(() -> {
                while (true) {
                    try {
                        server.accept().close();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            await().atMost(WAIT).until(() -> tcpBackendHealthy("p"));
        }
        await().atMost(WAIT).until(() -> !tcpBackendHealthy("p"));
    }

    private boolean tcpBackendHealthy(String service) {
        return status(service).tcpPool().backends().get(0).healthy();
    }

    @Test
    void theUnusedTcpPoolOfAUdpOnlyServiceIsNotProbed() throws Exception {
        int first = freePort();
        int second = freePort();
        Svc p = new Svc("turn", List.of(), List.of("127.0.0.1:" + first, "127.0.0.1:" + second), List.of(), List.of(), "");
        String yaml = p.yaml().replace("    backends:\n", """
                    backends:
                      - address: "127.0.0.2"
                        health_check: { interval: 100ms, timeout: 300ms, healthy_threshold: 1, unhealthy_threshold: 1 }
                """);
        file = dir.resolve("aegis.yaml");
        Files.writeString(file, text().replace("services:\n", "services:\n" + yaml));
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        // the UDP pool is checked (nothing answers on 127.0.0.2:first) ...
        await().atMost(WAIT).until(() -> !status("turn").udpPool().orElseThrow().backends().get(0).healthy());
        // ... the TCP pool serves no listener: probing it (on port 0) only made it look down
        assertTrue(tcpBackendHealthy("turn"));
        await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> tcpBackendHealthy("turn"));
    }

    // ------------------------------------------------------------------ 6. draining one service

    @Test
    void drainingOneServiceLeavesTheOthersTakingNewSessions() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        Svc a = svc("a", echo.id()).withUdp("127.0.0.1:0").withUdpBackends(udp.id());
        Svc b = svc("b", echo.id()).withUdp("127.0.0.1:0").withUdpBackends(udp.id());
        start(a, b);
        UdpClient before = udpClient(udpPort("a"));
        assertEquals("u:1", before.ask("1"));
        assertTrue(aegis.setDraining("a", true));
        assertFalse(aegis.draining(), "b still takes traffic");
        assertEquals("u:2", udpClient(udpPort("b")).ask("2"), "b takes a new session");
        assertEquals(null, udpClient(udpPort("a")).ask("3", 300), "a takes no new session");
        assertEquals("u:4", before.ask("4"), "a's open session carries on");
        await().atMost(WAIT).until(() -> status("a").udpTotals().droppedDraining() >= 1);
        assertEquals(0, status("b").udpTotals().droppedDraining());
        assertTrue(status("a").draining());
        assertFalse(status("b").draining());
    }

    @Test
    void aServiceAddedWhileTheWholeProxyDrainsDrainsToo() throws Exception {
        TcpEcho echo = tcpEcho();
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0");
        start(a);
        assertTrue(aegis.setDraining(null, true));
        write(a, svc("c", echo.id()).withTcp("127.0.0.1:0"));
        assertTrue(aegis.reload().ok());
        assertTrue(status("c").draining(), "a service added to a draining proxy takes no traffic");
        assertTrue(aegis.draining());
        assertTrue(aegis.setDraining(null, false));
        write(a, svc("c", echo.id()).withTcp("127.0.0.1:0"), svc("d", echo.id()).withTcp("127.0.0.1:0"));
        assertTrue(aegis.reload().ok());
        assertFalse(status("d").draining(), "after resume a new service takes traffic");
        assertFalse(status("c").draining());
    }

    // ------------------------------------------------------------------ 7. more

    @Test
    void aServiceThatGainsAUdpListenerGetsAUdpPool() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0");
        start(a);
        assertTrue(status("a").udpPool().isEmpty());
        int tcp = tcpPort("a");
        write(a.withUdp("127.0.0.1:0").withUdpBackends(udp.id()));
        assertTrue(aegis.reload().ok());
        assertEquals(List.of(udp.id()), status("a").udpPool().orElseThrow().backends().stream().map(ProxyStatus.Backend::id).toList());
        assertEquals("u:x", udpClient(udpPort("a")).ask("x"));
        assertEquals(tcp, tcpPort("a"), "the TCP listener stayed");
    }

    @Test
    void changedUdpBackendsTakeNewSessions() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho one = udpEcho("one");
        UdpEcho two = udpEcho("two");
        Svc a = svc("a", echo.id()).withUdp("127.0.0.1:0").withUdpBackends(one.id());
        start(a);
        int port = udpPort("a");
        UdpClient old = udpClient(port);
        assertEquals("one:x", old.ask("x"));
        write(a.withUdpBackends(two.id()));
        assertTrue(aegis.reload().ok());
        assertEquals(port, udpPort("a"));
        assertEquals("two:y", udpClient(port).ask("y"), "a new session goes to the new pool");
    }

    @Test
    void aServiceThatDropsItsUdpListenerStopsProbingItsUdpBackends() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0").withUdp("127.0.0.1:0");
        String yaml = a.yaml() + "    udp_backends:\n      - address: \"" + udp.id() + "\"\n"
                + "        health_check: { interval: 100ms, timeout: 500ms }\n";
        file = dir.resolve("aegis.yaml");
        Files.writeString(file, text().replace("services:\n", "services:\n" + yaml));
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        int udpPortA = udpPort("a");
        await().atMost(WAIT).until(() -> udp.received.get() >= 3); // probes
        write(a.withUdp());
        assertTrue(aegis.reload().ok());
        assertEquals(List.of(), status("a").udpListeners());
        await().atMost(WAIT).until(() -> udpFree(udpPortA));
        int probes = udp.received.get();
        await().during(Duration.ofMillis(700)).atMost(WAIT).until(() -> udp.received.get() <= probes + 1);
    }

    @Test
    void onePerClientLimitDoesNotLimitAnotherService() throws Exception {
        TcpEcho echo = tcpEcho();
        Svc limited = svc("a", echo.id()).withTcp("127.0.0.1:0").withExtra("""
                    traffic:
                      rate_limit:
                        per_client: { requests_per_second: 1, burst: 1 }
                """);
        Svc free = svc("b", echo.id()).withTcp("127.0.0.1:0");
        start(limited, free);
        int a = tcpPort("a");
        int b = tcpPort("b");
        assertTrue(serves(a));
        assertFalse(serves(a), "a's second connection within the second is over a's limit");
        for (int i = 0; i < 5; i++) {
            assertTrue(serves(b), "b has no limit of its own: connection " + i);
        }
        // and b's reload leaves a's limiter (and its spent bucket) alone
        write(limited, free.withExtra("""
                    traffic:
                      rate_limit:
                        per_client: { requests_per_second: 1000, burst: 1000 }
                """));
        assertTrue(aegis.reload().ok());
        assertFalse(serves(a), "a is still limited");
    }

    @Test
    void aRemovedUdpServiceCanComeBackWhileItsSessionsDrain() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        int port = freePort();
        Svc a = svc("a", echo.id()).withUdp("127.0.0.1:" + port).withTcp("127.0.0.1:" + port).withUdpBackends(udp.id());
        Svc b = svc("b", echo.id()).withTcp("127.0.0.1:0");
        start(a, b);
        UdpClient session = udpClient(port);
        assertEquals("u:1", session.ask("1"));
        write(b);
        assertTrue(aegis.reload().ok());
        write(a, b);
        ProxyControl.ReloadResult back = aegis.reload();
        assertTrue(back.ok(), back.errors().toString());
        assertEquals(List.of("a", "b"), serviceNames());
        assertEquals("u:2", session.ask("2"), "the old session still answers");
        assertEquals("u:3", udpClient(port).ask("3"), "a takes new sessions again");
        roundTrip(port, "tcp is back too");
        // and the drain deadline of the removal no longer applies
        await().during(Duration.ofMillis(1500)).atMost(WAIT).until(() -> status("a").udpSessions() == 2);
    }

    @Test
    void aServiceCanGoBackToAUdpAddressItLeftWhileItsSessionsDrain() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        int port = freePort();
        Svc a = svc("a", echo.id()).withUdp("127.0.0.1:" + port).withUdpBackends(udp.id());
        start(a);
        UdpClient session = udpClient(port);
        assertEquals("u:1", session.ask("1"));
        write(a.withUdp("127.0.0.1:0"));
        assertTrue(aegis.reload().ok());
        assertEquals(null, udpClient(port).ask("no", 300), "the left address takes no new session");
        write(a);
        ProxyControl.ReloadResult back = aegis.reload();
        assertTrue(back.ok(), back.errors().toString());
        assertEquals(List.of(port), ports(status("a").udpListeners()));
        assertEquals("u:2", session.ask("2"));
        assertEquals("u:3", udpClient(port).ask("3"), "new sessions again");
    }

    @Test
    void aUdpAddressStillDrainingGoesToAnotherServiceOnlyOnceItsSessionsEnded() throws Exception {
        TcpEcho echo = tcpEcho();
        UdpEcho udp = udpEcho("u");
        int port = freePort();
        Svc a = svc("a", echo.id()).withUdp("127.0.0.1:" + port).withUdpBackends(udp.id()).withExtra("""
                    udp: { session_timeout: 700ms }
                """);
        Svc b = svc("b", echo.id()).withTcp("127.0.0.1:0").withUdpBackends(udp.id());
        start(a, b);
        UdpClient session = udpClient(port);
        assertEquals("u:1", session.ask("1"));
        write(a.withUdp("127.0.0.1:0"), b);
        assertTrue(aegis.reload().ok());
        long generation = aegis.status().generation();
        write(a.withUdp("127.0.0.1:0"), b.withUdp("127.0.0.1:" + port));
        ProxyControl.ReloadResult r = aegis.reload();
        assertFalse(r.ok(), "the port is still a's: its session drains there");
        String e = String.join("\n", r.errors());
        assertTrue(e.contains("services.b") && e.contains("service a") && e.contains("udp 127.0.0.1:" + port), e);
        assertEquals(generation, aegis.status().generation());
        assertEquals("u:2", session.ask("2"), "a's session carries on");
        // once it expired the retired listener closes and the address is free to take
        await().atMost(WAIT).until(() -> status("a").udpSessions() == 0);
        await().atMost(WAIT).until(() -> aegis.reload().ok());
        assertEquals(List.of(port), ports(status("b").udpListeners()));
        assertEquals("u:3", udpClient(port).ask("3"));
    }

    @Test
    void aReloadAfterShutdownBindsNothing() throws Exception {
        TcpEcho echo = tcpEcho();
        Svc a = svc("a", echo.id()).withTcp("127.0.0.1:0");
        start(a);
        aegis.shutdown();
        int port = freePort();
        write(a, svc("b", echo.id()).withTcp("127.0.0.1:" + port));
        ProxyControl.ReloadResult r = aegis.reload();
        assertFalse(r.ok(), "a stopped core does not reload");
        assertTcpFree(port);
    }

}
