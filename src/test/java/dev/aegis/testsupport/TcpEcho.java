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
        this(new ServerSocket(0, 100, InetAddress.getLoopbackAddress()));
    }

    /** An echo on {@code address} (another loopback address such as 127.0.0.2, or a given port). */
    public TcpEcho(java.net.InetSocketAddress address) throws IOException {
        this(new ServerSocket(address.getPort(), 100, address.getAddress()));
    }

    private TcpEcho(ServerSocket bound) {
        server = bound;
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
        return server.getInetAddress().getHostAddress() + ":" + port();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
