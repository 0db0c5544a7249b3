package dev.aegis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A UDP client on its own loopback source port: one client address, so one Aegis session. */
final class UdpClient implements AutoCloseable {

    private final DatagramSocket socket;
    private final InetSocketAddress proxy;
    private final byte[] buf = new byte[65_535];

    UdpClient(InetSocketAddress proxy) {
        this.proxy = proxy;
        try {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            socket.setReceiveBufferSize(1 << 20);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    void send(byte[] data) throws IOException {
        socket.send(new DatagramPacket(data, data.length, proxy));
    }

    /** The next datagram's text, or null after {@code timeoutMs} without one. Checks it came from the proxy's address. */
    String receive(int timeoutMs) throws IOException {
        DatagramPacket p = receivePacket(timeoutMs);
        return p == null ? null : new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    DatagramPacket receivePacket(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        if (!p.getSocketAddress().equals(proxy)) {
            throw new AssertionError("reply came from " + p.getSocketAddress() + ", not from the listen address " + proxy);
        }
        return p;
    }

    /** Sends {@code text} and returns the first reply, or null after {@code timeoutMs}. */
    String ask(String text, int timeoutMs) throws IOException {
        send(text);
        return receive(timeoutMs);
    }

    int localPort() {
        return socket.getLocalPort();
    }

    @Override
    public void close() {
        socket.close();
    }
}
