package dev.aegis.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Small real backends on loopback for the TCP tests. */
final class TestServers {

    private TestServers() {
    }

    /** What a backend does with one accepted connection. */
    interface Behaviour {
        void serve(Socket socket) throws IOException;
    }

    /** A backend on a free loopback port, one virtual thread per connection. */
    static final class Backend implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final List<Socket> sockets = new CopyOnWriteArrayList<>();
        /** Released by close(): behaviours that hang wait on it. */
        final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

        Backend(Behaviour behaviour) throws IOException {
            server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.incrementAndGet();
                        sockets.add(s);
                        Thread.ofVirtual().start(() -> {
                            try (s) {
                                behaviour.serve(s);
                            } catch (IOException ignored) {
                                // the test ended the connection
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            closed.countDown();
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Echoes every byte; on EOF from the client, closes its side too. */
    static Backend echo() throws IOException {
        return new Backend(s -> s.getInputStream().transferTo(s.getOutputStream()));
    }

    /** Writes its name and closes. */
    static Backend named(String name) throws IOException {
        return new Backend(s -> {
            s.getOutputStream().write(name.getBytes());
            s.shutdownOutput();
            s.getInputStream().transferTo(OutputStream.nullOutputStream());
        });
    }

    /** Accepts and never answers (a hung backend). */
    static Backend silent() throws IOException {
        return new Backend(s -> s.getInputStream().transferTo(OutputStream.nullOutputStream()));
    }

    /** Reads the request to its end (the client's FIN), then never answers nor closes: hung after a half-close. */
    static Backend hungAfterEof() throws IOException {
        Backend[] self = new Backend[1];
        self[0] = new Backend(s -> {
            s.getInputStream().transferTo(OutputStream.nullOutputStream());
            try {
                self[0].closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return self[0];
    }

    static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    /** A port on loopback where nothing listens (bound then closed). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
