package dev.aegis.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/** Client sides of the tests: one HTTP request per connection, and checksummed echo transfers. */
final class Clients {

    private static final Pattern SERVER = Pattern.compile("\"server\"\\s*:\\s*\"([^\"]+)\"");
    static final int CONNECT_TIMEOUT_MS = 5_000;
    static final int READ_TIMEOUT_MS = 20_000;

    private Clients() {
    }

    /**
     * {@code GET path} over a fresh connection ({@code Connection: close}, so every request is a
     * new connection and a new balancing decision). @return the response body
     */
    static String httpGet(InetSocketAddress proxy, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(proxy, CONNECT_TIMEOUT_MS);
            s.setSoTimeout(READ_TIMEOUT_MS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int body = response.indexOf("\r\n\r\n");
            if (!response.startsWith("HTTP/1.1 200") || body < 0) {
                throw new IOException("unexpected response: " + (response.isEmpty() ? "(connection closed without an answer)" : response));
            }
            return response.substring(body + 4);
        }
    }

    /** The backend that answered: the {@code "server"} field of a JSON body. */
    static String serverOf(String body) {
        Matcher m = SERVER.matcher(body);
        if (!m.find()) {
            throw new AssertionError("no \"server\" field in " + body);
        }
        return m.group(1);
    }

    /** {@code GET /} through the proxy: the name of the backend that answered. */
    static String whoAnswers(InetSocketAddress proxy) throws IOException {
        return serverOf(httpGet(proxy, "/"));
    }

    /** The outcome of one echo transfer. */
    record Transfer(long sent, long received, long sentCrc, long receivedCrc, String backend, String error) {
        /** Every byte came back, unchanged, and the connection ended cleanly. */
        boolean intact() {
            return error == null && sent == received && sentCrc == receivedCrc;
        }

        @Override
        public String toString() {
            return "transfer[backend=" + backend + " sent=" + sent + " received=" + received
                    + (sentCrc == receivedCrc ? " crc ok" : " crc MISMATCH") + (error == null ? "" : " error=" + error) + "]";
        }
    }

    /**
     * Sends {@code size} pseudo-random bytes (from {@code seed}) through the proxy to an echo
     * backend in {@code chunk}-byte writes, {@code pauseNanos} apart, then half-closes; reads
     * everything back until EOF on another thread. Compares byte counts and CRC32C checksums.
     * With {@code greeted}, the backend's first line (its name) is read first.
     */
    static Transfer echo(InetSocketAddress proxy, long seed, int size, int chunk, long pauseNanos, boolean greeted) {
        CRC32C sentCrc = new CRC32C();
        long[] sent = {0};
        AtomicReference<String> writeError = new AtomicReference<>();
        String backend = null;
        try (Socket s = new Socket()) {
            s.connect(proxy, CONNECT_TIMEOUT_MS);
            s.setSoTimeout(READ_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            Thread writer = Thread.ofVirtual().name("it-echo-writer").start(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                byte[] buf = new byte[chunk];
                try {
                    for (int left = size; left > 0; ) {
                        int n = Math.min(chunk, left);
                        for (int i = 0; i < n; i++) {
                            buf[i] = (byte) random.nextInt(256);
                        }
                        out.write(buf, 0, n);
                        sentCrc.update(buf, 0, n);
                        sent[0] += n;
                        left -= n;
                        if (pauseNanos > 0 && left > 0) {
                            LockSupport.parkNanos(pauseNanos); // load pacing, not a test wait
                        }
                    }
                    s.shutdownOutput();
                } catch (IOException e) {
                    writeError.set("write: " + e);
                }
            });
            CRC32C receivedCrc = new CRC32C();
            long received = 0;
            String readError = null;
            try {
                if (greeted) {
                    backend = readLine(in);
                }
                byte[] buf = new byte[32 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    receivedCrc.update(buf, 0, n);
                    received += n;
                }
            } catch (IOException e) {
                readError = "read: " + e;
            }
            writer.join();
            String error = writeError.get() != null ? writeError.get() : readError;
            return new Transfer(sent[0], received, sentCrc.getValue(), receivedCrc.getValue(), backend, error);
        } catch (IOException e) {
            return new Transfer(sent[0], 0, sentCrc.getValue(), 0, backend, "connect: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Transfer(sent[0], 0, sentCrc.getValue(), 0, backend, "interrupted");
        }
    }

    /** One line, up to but not including {@code \n}. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        if (b < 0 && line.size() == 0) {
            throw new IOException("connection closed before the greeting");
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
