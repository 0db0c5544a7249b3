package dev.aegis.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/** A TCP echo backend on a free loopback port: echoes every byte, closes after the client's FIN. */
public final class TcpEcho implements AutoCloseable {

    private final ServerSocket server;
    public final AtomicInteger accepted = new AtomicInteger();

    public TcpEcho() throws IOException {
        server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    return; // closed
                }
                accepted.incrementAndGet();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException ignored) {
                        // the client went away
                    }
                });
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The backend's id in the pool and in metric labels. */
    public String id() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
