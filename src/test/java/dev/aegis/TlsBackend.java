package dev.aegis;

import dev.aegis.tls.ClientHelloParser;
import dev.aegis.tls.ClientHelloResult;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A plain TCP backend for TLS routing tests; it speaks no TLS. It reads a connection's first
 * message (a complete ClientHello, across records and segments, or one text line), keeps the bytes
 * in {@link #received} and answers {@code <name> <what it saw>} in one line, then closes. With a
 * banner it first sends that line at accept, as an SMTP server does.
 */
final class TlsBackend implements AutoCloseable {

    final String name;
    final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    private final ServerSocket server;
    private final String banner;

    TlsBackend(String name, String banner) throws IOException {
        this.name = name;
        this.banner = banner;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::acceptLoop);
    }

    TlsBackend(String name) throws IOException {
        this(name, null);
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** The next first message a client sent here, or null if none came within 10 seconds. */
    byte[] next() throws InterruptedException {
        return received.poll(10, TimeUnit.SECONDS);
    }

    private void acceptLoop() {
        while (true) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofVirtual().start(() -> serve(s));
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            if (banner != null) {
                out.write((banner + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            DataInputStream in = new DataInputStream(s.getInputStream());
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            int b = in.read();
            if (b < 0) {
                received.add(new byte[0]);
                return;
            }
            first.write(b);
            String saw;
            if (b == 22) {
                ClientHelloResult result = ClientHelloResult.NEED_MORE;
                while (result instanceof ClientHelloResult.NeedMore) {
                    int next = in.read();
                    if (next < 0) {
                        break;
                    }
                    first.write(next);
                    result = ClientHelloParser.parse(first.toByteArray(), 0, first.size());
                }
                saw = result instanceof ClientHelloResult.Sni(String sni) ? "sni=" + sni : result.toString();
            } else {
                while (b != '\n') {
                    b = in.read();
                    if (b < 0) {
                        break;
                    }
                    first.write(b);
                }
                saw = "line=" + first.toString(StandardCharsets.US_ASCII).strip();
            }
            received.add(first.toByteArray());
            out.write((name + " " + saw + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
