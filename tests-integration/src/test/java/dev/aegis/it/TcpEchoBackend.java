package dev.aegis.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP echo backend: every byte comes back unchanged; when the client half-closes, the backend
 * sends what is left and half-closes too. With {@code greet} it first sends one line with its
 * name, so a client learns which backend it reached. It can stop listening (its open
 * connections carry on: a flapping service that refuses new work), listen again on the same
 * port, or be killed (every open connection reset).
 */
final class TcpEchoBackend implements AutoCloseable {

    private final String name;
    private final boolean greet;
    private final AtomicInteger accepted = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private int port;
    private volatile ServerSocket server;

    private TcpEchoBackend(String name, boolean greet) {
        this.name = name;
        this.greet = greet;
    }

    static TcpEchoBackend start(String name) {
        return start(name, false);
    }

    static TcpEchoBackend start(String name, boolean greet) {
        TcpEchoBackend b = new TcpEchoBackend(name, greet);
        b.listen(0);
        return b;
    }

    private void listen(int onPort) {
        ServerSocket s;
        try {
            s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 1024);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind " + name + " on port " + onPort, e);
        }
        port = s.getLocalPort();
        server = s;
        Thread.ofPlatform().daemon().name("it-echo-accept-" + name).start(() -> acceptLoop(s));
    }

    private void acceptLoop(ServerSocket s) {
        while (!s.isClosed()) {
            Socket c;
            try {
                c = s.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(c);
            Thread.ofVirtual().name("it-echo-" + name).start(() -> serve(c));
        }
    }

    private void serve(Socket c) {
        try (c) {
            c.setTcpNoDelay(true);
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            if (greet) {
                out.write((name + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            c.shutdownOutput();
        } catch (IOException e) {
            // reset by the peer, or killed by the test
        } finally {
            open.remove(c);
        }
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    int accepted() {
        return accepted.get();
    }

    int openConnections() {
        return open.size();
    }

    boolean listening() {
        ServerSocket s = server;
        return s != null && !s.isClosed();
    }

    /** Stops accepting; connections already accepted carry on. */
    void stopListening() {
        ServerSocket s = server;
        server = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Listens again on the same port. */
    void startListening() {
        if (!listening()) {
            listen(port);
        }
    }

    /** A crash: stops listening and resets every open connection. */
    void kill() {
        stopListening();
        for (Socket c : open) {
            try {
                c.setSoLinger(true, 0);
                c.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() {
        kill();
    }
}
