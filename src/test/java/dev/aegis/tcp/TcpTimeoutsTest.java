package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SPEC §4 "Timeouts never truncate silently": slow receivers and shaping pauses count as
 * activity, and a timeout that cuts a stream resets it instead of ending it with a FIN.
 */
class TcpTimeoutsTest {

    private static TcpSettings timeouts(Duration idle, Duration read) {
        return new TcpSettings(Duration.ofSeconds(2), idle, read, 2, 0, 0, false);
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    /** A backend that sends {@code data}, then its FIN, and reads whatever the client sends. */
    private static TestServers.Backend sender(byte[] data) throws IOException {
        return new TestServers.Backend(s -> {
            s.getOutputStream().write(data);
            s.shutdownOutput();
            s.getInputStream().transferTo(OutputStream.nullOutputStream());
        });
    }

    private static Socket connectWithReceiveBuffer(ProxyFixture proxy, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(receiveBuffer); // before connect, so the window stays small
        s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.listener.localAddress().getPort()));
        s.setSoTimeout(10_000);
        return s;
    }

    private static void assertReset(Socket client) {
        SocketException e = assertThrows(SocketException.class, () -> client.getInputStream().read(),
                "a timeout must reset the client, not end the stream with a FIN");
        assertTrue(e.getMessage().contains("Connection reset"), e.getMessage());
    }

    @Test
    void aSlowReaderGetsEveryByteAlthoughOneWriteWaitsLongerThanTheIdleTimeout() throws Exception {
        // 4 MB at 2 MB/s: the proxy's send buffer (about 2 MB on loopback) fills at once and a blocked
        // write returns only after about 1 MB drained (0.5 s), far beyond the 150 ms idle timeout.
        byte[] data = randomBytes(4 * 1024 * 1024, 1);
        try (var backend = sender(data);
                var proxy = new ProxyFixture(timeouts(Duration.ofMillis(150), Duration.ofSeconds(30)), List.of(backend.address()));
                Socket client = connectWithReceiveBuffer(proxy, 8 * 1024)) {
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            long n = TestServers.readSlowly(client.getInputStream(), got, Long.MAX_VALUE, 2 * 1024 * 1024);
            assertEquals(data.length, n, "every byte delivered");
            assertArrayEquals(sha256(data), got.digest());
        }
    }

    @Test
    void aShapingPauseLongerThanTheIdleTimeoutIsNotIdle() throws Exception {
        // 64 KB/s with a 16 KB burst: each 64 KB read is followed by a pause of about 1 s; idle is 200 ms.
        byte[] data = randomBytes(96 * 1024, 2);
        try (var backend = sender(data);
                var proxy = new ProxyFixture(timeouts(Duration.ofMillis(200), Duration.ofSeconds(30)), List.of(backend.address()))) {
            proxy.listener.reconfigure(proxy.listener.context().withBandwidthBuckets(() -> TokenBucket.of(64 * 1024, 16 * 1024)));
            try (Socket client = proxy.connect()) {
                byte[] received = client.getInputStream().readAllBytes();
                assertEquals(data.length, received.length, "every byte delivered");
                assertArrayEquals(sha256(data), sha256(received));
            }
        }
    }

    @Test
    void anIdleTimeoutResetsBothSidesOfAnOpenStreamInsteadOfSendingAFin() throws Exception {
        var backendSaw = new CompletableFuture<String>();
        try (var backend = new TestServers.Backend(s -> {
                    s.getOutputStream().write("partial".getBytes(StandardCharsets.US_ASCII));
                    try {
                        backendSaw.complete(s.getInputStream().read() < 0 ? "eof" : "byte");
                    } catch (SocketException e) {
                        backendSaw.complete("reset");
                    }
                });
                var proxy = new ProxyFixture(timeouts(Duration.ofMillis(200), Duration.ofSeconds(30)), List.of(backend.address()));
                Socket client = proxy.connect()) {
            assertEquals("partial", new String(client.getInputStream().readNBytes(7), StandardCharsets.US_ASCII));
            assertReset(client);
            assertEquals("reset", backendSaw.get(10, TimeUnit.SECONDS), "the backend must see a reset too");
            await().until(() -> proxy.listener.stats().closed(CloseReason.IDLE_TIMEOUT) == 1);
        }
    }

    @Test
    void aBackendThatReadsAnUploadSlowlyGetsNoReadTimeout() throws Exception {
        // The backend reads the first 2 MB of an 8 MB upload at 2 MB/s with a small receive buffer:
        // the proxy's writes to it block about 0.5 s at a time, read timeout is 150 ms. Then it reads
        // at full speed and answers with the count.
        int size = 8 * 1024 * 1024;
        byte[] data = randomBytes(size, 3);
        try (var backend = new TestServers.Backend(8 * 1024, s -> {
                    InputStream in = s.getInputStream();
                    long n = TestServers.readSlowly(in, null, 2 * 1024 * 1024, 2 * 1024 * 1024);
                    n += in.transferTo(OutputStream.nullOutputStream());
                    s.getOutputStream().write(("got " + n).getBytes(StandardCharsets.US_ASCII));
                });
                var proxy = new ProxyFixture(timeouts(Duration.ofSeconds(60), Duration.ofMillis(150)), List.of(backend.address()));
                Socket client = proxy.connect()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    client.getOutputStream().write(data);
                    client.shutdownOutput();
                } catch (IOException e) {
                    // the read below reports what went wrong
                }
            });
            assertEquals("got " + size, new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            writer.join();
            assertEquals(0, proxy.listener.stats().closed(CloseReason.READ_TIMEOUT));
        }
    }

    @Test
    void aClientThatLeavesWithoutSendingDoesNotResetAHungBackendsFailureCount() throws Exception {
        try (var hung = TestServers.silent();
                var proxy = new ProxyFixture(timeouts(Duration.ofSeconds(60), Duration.ofMillis(150)), List.of(hung.address()), 0,
                        new CircuitBreakerConfig(3, Duration.ofSeconds(30)))) {
            Backend b = proxy.pool.current().backends().get(0);
            try (Socket c = proxy.connect()) {
                c.getOutputStream().write(1);
                await().until(() -> proxy.listener.stats().closed(CloseReason.READ_TIMEOUT) == 1);
            }
            await().until(() -> b.circuit().consecutiveFailures() == 1);
            try (Socket c = proxy.connect()) {
                await().until(() -> hung.accepted.get() == 2);
            }
            await().until(() -> proxy.listener.activeConnections() == 0);
            assertEquals(1, b.circuit().consecutiveFailures(), "a connection that proves nothing gives no verdict");
        }
    }
}
