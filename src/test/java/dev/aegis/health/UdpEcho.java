package dev.aegis.health;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** A UDP backend on loopback that echoes every datagram, or (silent) receives and never answers. */
final class UdpEcho implements AutoCloseable {

    private final DatagramSocket socket;
    private final boolean silent;
    final AtomicInteger received = new AtomicInteger();

    UdpEcho(boolean silent) throws IOException {
        this.silent = silent;
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("test-udp-echo").start(this::loop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(socket.getLocalAddress(), socket.getLocalPort());
    }

    private void loop() {
        byte[] buf = new byte[2048];
        while (!socket.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                received.incrementAndGet();
                if (!silent) {
                    socket.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
