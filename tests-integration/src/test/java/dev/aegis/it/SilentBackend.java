package dev.aegis.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hung service: accepts connections, reads and discards whatever comes, never answers, and
 * keeps each connection open even after the client's half-close, until the test closes it.
 */
final class SilentBackend implements AutoCloseable {

    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);

    private SilentBackend() {
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("it-silent-accept").start(this::acceptLoop);
    }

    static SilentBackend start() {
        return new SilentBackend();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(c);
            Thread.ofVirtual().name("it-silent").start(() -> {
                try (c; InputStream in = c.getInputStream()) {
                    byte[] buf = new byte[8192];
                    while (in.read(buf) >= 0) {
                        // discard
                    }
                    closed.await(); // hung: the socket stays open until close()
                } catch (IOException e) {
                    // closed by Aegis or the test
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    open.remove(c);
                }
            });
        }
    }

    int port() {
        return server.getLocalPort();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    int accepted() {
        return accepted.get();
    }

    int openConnections() {
        return open.size();
    }

    @Override
    public void close() {
        closed.countDown();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
