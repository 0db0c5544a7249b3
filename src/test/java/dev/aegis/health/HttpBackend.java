package dev.aegis.health;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny HTTP/1.1 backend on loopback whose status can be flipped at any time. It records every
 * request head and counts the answers it gave per kind (2xx/3xx or not).
 */
final class HttpBackend implements AutoCloseable {

    private final ServerSocket server;
    private final Thread acceptor;
    final AtomicInteger status = new AtomicInteger(200);
    final AtomicInteger passed = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    /** Consecutive answers of the same kind: +n for n passes in a row, -n for n failures in a row. */
    final AtomicInteger streak = new AtomicInteger();
    final List<String> requests = new CopyOnWriteArrayList<>();

    HttpBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofVirtual().name("test-http-backend").start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            int first = in.read();
            if (first < 'A' || first > 'Z') {
                // not HTTP (a TLS ClientHello, say): answer like a plain web server does
                s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                return;
            }
            String head = (char) first + readHead(in);
            requests.add(head);
            int code = status.get();
            // count before answering, so a client that has the answer sees the count
            if (code >= 200 && code < 400) {
                passed.incrementAndGet();
                streak.updateAndGet(n -> n > 0 ? n + 1 : 1);
            } else {
                failed.incrementAndGet();
                streak.updateAndGet(n -> n < 0 ? n - 1 : -1);
            }
            s.getOutputStream().write(("HTTP/1.1 " + code + " Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
        } catch (IOException ignored) {
            // the client went away: nothing to do in a test backend
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while (head.length() < 8192 && (c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 3 && head.substring(head.length() - 3).equals("\n\r\n")) {
                break;
            }
        }
        return head.toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
