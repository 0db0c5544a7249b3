package dev.aegis.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A long-lived connection through the proxy to a greeting echo backend, driven step by step:
 * each {@link #exchange} sends bytes and checks they come back unchanged.
 */
final class EchoConnection implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final String backend;
    private final SplittableRandom random;
    private long exchanged;

    EchoConnection(InetSocketAddress proxy, long seed) throws IOException {
        socket = new Socket();
        socket.connect(proxy, Clients.CONNECT_TIMEOUT_MS);
        socket.setSoTimeout(Clients.READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
        backend = Clients.readLine(in);
        random = new SplittableRandom(seed);
    }

    /** The name of the backend this connection reached. */
    String backend() {
        return backend;
    }

    long exchanged() {
        return exchanged;
    }

    /** Sends {@code size} random bytes and reads them back; throws if the connection broke or bytes differ. */
    void exchange(int size) throws IOException {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) random.nextInt(256);
        }
        out.write(data);
        byte[] back = in.readNBytes(size);
        if (back.length < size) {
            throw new IOException("connection ended after " + back.length + " of " + size + " echoed bytes");
        }
        if (!Arrays.equals(data, back)) {
            throw new AssertionError("echoed bytes differ on " + backend);
        }
        exchanged += size;
    }

    /**
     * Half-closes and expects the backend's EOF. @return true if the connection ended cleanly
     * (EOF with no extra bytes)
     */
    boolean finish() throws IOException {
        socket.shutdownOutput();
        return in.read() < 0;
    }

    /** Reads until the connection ends: EOF or an error. @return how it ended, for messages */
    String awaitEnd() {
        try {
            int b = in.read();
            return b < 0 ? "eof" : "unexpected byte " + b;
        } catch (IOException e) {
            return "error: " + e.getMessage();
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
