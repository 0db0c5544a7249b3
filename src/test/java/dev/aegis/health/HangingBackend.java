package dev.aegis.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend that accepts connections and never answers. It notices overlapping checks: when a new
 * connection arrives, the previous one must already have been closed by the client (its EOF
 * arrives at once on loopback); if it is still open 100 ms later, two checks overlapped.
 */
final class HangingBackend implements AutoCloseable {

    private final ServerSocket server;
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger overlaps = new AtomicInteger();
    private CountDownLatch previousClosed = new CountDownLatch(0); // only the acceptor thread touches it

    HangingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("test-hanging-backend").start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                accepted.incrementAndGet();
                if (!previousClosed.await(100, TimeUnit.MILLISECONDS)) {
                    overlaps.incrementAndGet();
                }
                CountDownLatch closed = new CountDownLatch(1);
                previousClosed = closed;
                Thread.ofVirtual().start(() -> drainUntilEof(s, closed));
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void drainUntilEof(Socket s, CountDownLatch closed) {
        try (s) {
            byte[] buf = new byte[1024];
            while (s.getInputStream().read(buf) >= 0) {
                // swallow the request, answer nothing
            }
        } catch (IOException ignored) {
            // reset by the client: as good as closed
        } finally {
            closed.countDown();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
