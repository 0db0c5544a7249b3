package dev.aegis;

import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.ConfigLoader;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reloads against a real core on loopback: what ends up applied, and what reaches open connections. */
class AegisReloadTest {

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

    private void write(String listen, String extraProxy, TcpEcho... backends) throws IOException {
        StringBuilder b = new StringBuilder("proxy:\n  listen:\n    tcp: \"" + listen + "\"\n  backends:\n");
        for (TcpEcho e : backends) {
            b.append("    - address: \"").append(e.id()).append("\"\n");
        }
        b.append(extraProxy);
        b.append("admin:\n  api_address: \"127.0.0.1:0\"\n  metrics_address: \"127.0.0.1:0\"\nlogging:\n  access_log: false\n");
        Files.writeString(file, b.toString());
    }

    private void start(String listen, String extraProxy, TcpEcho... backends) throws Exception {
        file = dir.resolve("aegis.yaml");
        write(listen, extraProxy, backends);
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
    }

    private List<String> tcpBackends() {
        return aegis.status().services().get(0).tcpPool().backends().stream().map(ProxyStatus.Backend::id).toList();
    }

    @Test
    void ofTwoOverlappingReloadsTheLastAppliesTheNewestFile() throws Exception {
        TcpEcho a = backend();
        TcpEcho older = backend();
        TcpEcho newer = backend();
        start("127.0.0.1:0", "", a);
        // The first reload stops between reading the file and applying it, until released.
        CountDownLatch firstRead = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        aegis.afterConfigRead(() -> {
            if (first.compareAndSet(true, false)) {
                firstRead.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        write("127.0.0.1:0", "", older);
        CompletableFuture<ProxyControl.ReloadResult> one = CompletableFuture.supplyAsync(aegis::reload);
        assertTrue(firstRead.await(10, TimeUnit.SECONDS));
        write("127.0.0.1:0", "", newer); // the operator fixes the file and reloads again
        AtomicReference<Thread> secondThread = new AtomicReference<>();
        CompletableFuture<ProxyControl.ReloadResult> two = new CompletableFuture<>();
        secondThread.set(Thread.ofPlatform().start(() -> two.complete(aegis.reload())));
        // The second reload either finished or waits for the first: both are the race's worst case.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> two.isDone() || aegis.waitsForLifecycle(secondThread.get()));
        release.countDown();
        assertTrue(one.get(10, TimeUnit.SECONDS).ok());
        assertTrue(two.get(10, TimeUnit.SECONDS).ok());
        assertEquals(List.of(newer.id()), tcpBackends(), "the newest file is what runs");
    }

    @Test
    void newTimeoutsReachConnectionsOnAListenerTheReloadReplaced() throws Exception {
        TcpEcho a = backend();
        start("127.0.0.1:0", "", a); // idle: 60 s
        int oldPort = aegis.status().services().get(0).tcpListeners().get(0).address().getPort();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), oldPort)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("x".getBytes(StandardCharsets.UTF_8));
            assertEquals('x', s.getInputStream().read(), "the connection is open and proxied");
            write("localhost:0", """
                      traffic:
                        timeout:
                          idle: 300ms
                    """, a);
            assertTrue(aegis.reload().ok());
            assertNotEquals(oldPort, aegis.status().services().get(0).tcpListeners().get(0).address().getPort(), "the listener moved");
            long t0 = System.nanoTime();
            int end;
            try {
                end = s.getInputStream().read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the old listener's connection kept the 60 s idle timeout", e);
            } catch (IOException reset) {
                end = -1; // closed with a reset: also the idle timeout
            }
            assertEquals(-1, end);
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(15), "closed by the new idle timeout");
        }
    }
}
