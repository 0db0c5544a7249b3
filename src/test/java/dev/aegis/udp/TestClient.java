package dev.aegis.udp;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A UDP client on its own loopback port, i.e. one session key for the proxy. */
final class TestClient implements AutoCloseable {

    /** One datagram received by the client, with where it came from. */
    record Reply(byte[] data, InetSocketAddress from) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        /** The backend name in front of the colon. */
        String backend() {
            String t = text();
            return t.substring(0, t.indexOf(':'));
        }
    }

    private final DatagramSocket socket;
    private final InetSocketAddress proxy;
    private final byte[] receiveBuffer = new byte[65_535];

    TestClient(InetSocketAddress proxy) throws IOException {
        this.proxy = proxy;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setSoTimeout(2_000);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void send(byte[] data) throws IOException {
        socket.send(new DatagramPacket(data, data.length, proxy));
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Waits up to the socket timeout (2 s) for one datagram. */
    Reply receive() throws IOException {
        DatagramPacket p = new DatagramPacket(receiveBuffer, receiveBuffer.length);
        socket.receive(p);
        return new Reply(Arrays.copyOf(p.getData(), p.getLength()), (InetSocketAddress) p.getSocketAddress());
    }

    /** Sends and waits for the answer. */
    Reply ask(String text) throws IOException {
        send(text);
        return receive();
    }

    /** Sends and waits for the answer; null if none came within {@code timeoutMillis}. */
    Reply tryAsk(String text, int timeoutMillis) throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout(timeoutMillis);
        try {
            send(text);
            return receive();
        } catch (SocketTimeoutException e) {
            return null;
        } finally {
            socket.setSoTimeout(old);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
