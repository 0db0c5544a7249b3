package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.LoadBalancingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@code traffic.timeout.max_lifetime} (SPEC §11): a connection older than that is ended with a
 * FIN both ways between two chunks, whatever traffic it still carries, and counted and logged as
 * {@code max_lifetime}.
 */
class TcpLifetimeTest {

    private static final int MESSAGE = 256; // below the pipes' small buffer: one read carries one message

    @Test
    void aConnectionThatKeepsTalkingEndsCleanlyAtItsMaxLifetime() throws Exception {
        // The backend echoes and records how its client's stream ended: "eof" is the FIN passed on.
        AtomicReference<String> backendSaw = new AtomicReference<>();
        List<String> lines = new CopyOnWriteArrayList<>();
        Duration lifetime = Duration.ofMillis(600);
        try (var backend = new TestServers.Backend(s -> {
                    try {
                        s.getInputStream().transferTo(s.getOutputStream());
                        backendSaw.set("eof");
                    } catch (IOException e) {
                        backendSaw.set(e.getMessage());
                    }
                });
                var proxy = new ProxyFixture(
                        new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0,
                                true).withMaxLifetime(lifetime),
                        List.of(backend.address()), 0, new CircuitBreakerConfig(5, Duration.ofSeconds(30)),
                        LoadBalancingConfig.Algorithm.ROUND_ROBIN, UnaryOperator.identity(), lines::add);
                Socket client = proxy.connect()) {
            long start = System.nanoTime();
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            byte[] message = new byte[MESSAGE];
            byte[] echo = new byte[MESSAGE];
            long echoed = 0;
            int last;
            // Talks without a pause (one message, its echo, the next) until the proxy ends the stream.
            for (int i = 0; ; i++) {
                Arrays.fill(message, (byte) i);
                out.write(message);
                int got = 0;
                while (got < MESSAGE && (last = in.read(echo, got, MESSAGE - got)) > 0) {
                    got += last;
                }
                if (got < MESSAGE) {
                    assertEquals(0, got, "the stream ended between two messages, not inside one");
                    break;
                }
                for (byte b : echo) {
                    assertEquals((byte) i, b, "every echoed byte arrives intact and in order");
                }
                echoed += MESSAGE;
            }
            long elapsed = System.nanoTime() - start;

            assertEquals(-1, in.read(), "a FIN (end of stream), not a reset");
            assertTrue(elapsed >= lifetime.toNanos(), "not before max_lifetime: " + elapsed / 1_000_000 + " ms");
            assertTrue(elapsed < Duration.ofSeconds(20).toNanos(), "ended at about max_lifetime");
            assertTrue(echoed > 0, "the connection carried traffic until then");
            await().atMost(Duration.ofSeconds(20)).until(() -> backendSaw.get() != null);
            assertEquals("eof", backendSaw.get(), "the backend got a FIN too");
            await().atMost(Duration.ofSeconds(20)).until(() -> proxy.listener.stats().closed(CloseReason.MAX_LIFETIME) == 1);
            await().atMost(Duration.ofSeconds(20)).until(() -> !lines.isEmpty());
            assertTrue(lines.get(0).contains(" reason=max_lifetime"), lines.get(0));
        }
    }
}
