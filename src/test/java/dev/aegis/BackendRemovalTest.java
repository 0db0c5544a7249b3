package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.ConfigLoader;
import dev.aegis.tcp.CloseReason;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backend_removal: drain | close} (SPEC §11): what the open connections of a backend get
 * when the admin API or a reload takes it out of the pool.
 */
class BackendRemovalTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
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

    private TcpEcho backend() throws IOException {
        TcpEcho e = new TcpEcho();
        resources.add(e);
        return e;
    }

    private void write(String removal, TcpEcho... backends) throws IOException {
        StringBuilder b = new StringBuilder("proxy:\n  listen:\n    tcp: \"127.0.0.1:0\"\n  backends:\n");
        for (TcpEcho e : backends) {
            b.append("    - address: \"").append(e.id()).append("\"\n");
        }
        if (removal != null) {
            b.append("  backend_removal: ").append(removal).append('\n');
        }
        b.append("admin:\n  api_address: \"127.0.0.1:0\"\n  metrics_address: \"127.0.0.1:0\"\nlogging:\n  access_log: false\n");
        Files.writeString(file, b.toString());
    }

    private void start(String removal, TcpEcho... backends) throws Exception {
        file = dir.resolve("aegis.yaml");
        write(removal, backends);
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
    }

    /** A client connected through the proxy, its connection proven by an echo. */
    private Socket connected() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(),
                aegis.status().services().get(0).tcpListeners().get(0).address().getPort());
        resources.add(s);
        s.setSoTimeout(20_000);
        assertEchoes(s, 'a');
        return s;
    }

    private static void assertEchoes(Socket s, int b) throws IOException {
        s.getOutputStream().write(b);
        assertEquals(b, s.getInputStream().read());
    }

    private static void assertReset(Socket s) {
        SocketException e = assertThrows(SocketException.class, () -> s.getInputStream().read(),
                "a removed backend's connection is reset under backend_removal: close");
        assertTrue(e.getMessage().contains("Connection reset"), e.getMessage());
    }

    private long closed(CloseReason reason) {
        return aegis.status().services().get(0).tcpTotals().closed(reason);
    }

    @Test
    void closeResetsTheConnectionsOfABackendRemovedByTheApi() throws Exception {
        TcpEcho a = backend();
        start("close", a);
        Socket s = connected();

        assertTrue(aegis.removeBackend("default", "tcp", a.id()));

        assertReset(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> closed(CloseReason.BACKEND_REMOVED) == 1);
    }

    @Test
    void closeResetsTheConnectionsOfABackendAReloadLeftOut() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        start("close", a);
        Socket onA = connected();

        write("close", b);
        assertTrue(aegis.reload().ok());

        assertReset(onA);
        Socket onB = connected(); // the pool goes on with b
        assertEchoes(onB, 'b');
        await().atMost(Duration.ofSeconds(20)).until(() -> closed(CloseReason.BACKEND_REMOVED) == 1);
    }

    @Test
    void drainIsTheDefaultAndLetsTheConnectionsOfARemovedBackendFinish() throws Exception {
        TcpEcho a = backend();
        start(null, a);
        Socket s = connected();

        assertTrue(aegis.removeBackend("default", "tcp", a.id()));

        assertEchoes(s, 'b'); // still proxied to the removed backend
        s.shutdownOutput();
        assertEquals(-1, s.getInputStream().read(), "ends normally, when the client is done");
        await().atMost(Duration.ofSeconds(20)).until(() -> closed(CloseReason.CLIENT_CLOSED) == 1);
        assertEquals(0, closed(CloseReason.BACKEND_REMOVED));
    }

    @Test
    void drainLetsTheConnectionsOfABackendAReloadLeftOutFinish() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        start("drain", a);
        Socket onA = connected();

        write("drain", b);
        assertTrue(aegis.reload().ok());

        assertEchoes(onA, 'c');
        assertEquals(0, closed(CloseReason.BACKEND_REMOVED));
    }

    @Test
    void aReloadThatTurnsCloseOnAndRemovesTheBackendClosesItsConnections() throws Exception {
        TcpEcho a = backend();
        TcpEcho b = backend();
        start("drain", a);
        Socket onA = connected();

        write("close", b);
        assertTrue(aegis.reload().ok());

        assertReset(onA);
    }
}
