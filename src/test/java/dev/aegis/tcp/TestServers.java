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
            this(0, behaviour);
        }

        /** @param receiveBuffer SO_RCVBUF of the accepted sockets (a slow reader), 0 = the system's */
        Backend(int receiveBuffer, Behaviour behaviour) throws IOException {
            this(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), receiveBuffer, behaviour);
        }

        /** A backend on {@code bind} (another loopback address, a given port). */
        Backend(InetSocketAddress bind, int receiveBuffer, Behaviour behaviour) throws IOException {
            server = new ServerSocket();
            if (receiveBuffer > 0) {
                server.setReceiveBufferSize(receiveBuffer); // inherited by accepted sockets
            }
            server.bind(bind, 200);
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
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
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
        return named(name, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** Writes its name and closes; listens on {@code bind}. */
    static Backend named(String name, InetSocketAddress bind) throws IOException {
        return new Backend(bind, 0, s -> {
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

    /**
     * Reads {@code limit} bytes (or to EOF) at about {@code bytesPerSecond}, in small reads: a slow
     * receiver. Pacing is the behaviour under test, not a wait for a condition.
     *
     * @return the bytes read
     */
    static long readSlowly(InputStream in, java.security.MessageDigest digest, long limit, long bytesPerSecond)
            throws IOException {
        byte[] buf = new byte[4096];
        long start = System.nanoTime();
        long got = 0;
        while (got < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - got));
            if (n < 0) {
                break;
            }
            if (digest != null) {
                digest.update(buf, 0, n);
            }
            got += n;
            long due = start + got * 1_000_000_000L / bytesPerSecond;
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        }
        return got;
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
