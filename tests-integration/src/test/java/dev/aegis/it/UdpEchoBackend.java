package dev.aegis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A UDP echo backend: answers each datagram with {@code NAME:} followed by the datagram (or the
 * datagram alone, {@code prefix == false}). Counts datagrams and the distinct source addresses
 * it saw (one per Aegis session). It can be stopped and started again on the same port.
 */
final class UdpEchoBackend implements AutoCloseable {

    private final String name;
    private final boolean prefix;
    private final AtomicLong packets = new AtomicLong();
    private final Set<SocketAddress> peers = ConcurrentHashMap.newKeySet();
    private int port;
    private volatile DatagramChannel channel;

    private UdpEchoBackend(String name, boolean prefix) {
        this.name = name;
        this.prefix = prefix;
    }

    static UdpEchoBackend start(String name) {
        return start(name, true);
    }

    static UdpEchoBackend start(String name, boolean prefix) {
        UdpEchoBackend b = new UdpEchoBackend(name, prefix);
        b.bind(0);
        return b;
    }

    private void bind(int onPort) {
        DatagramChannel ch;
        try {
            ch = DatagramChannel.open();
            ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1 << 20);
            ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind udp " + name + " on port " + onPort, e);
        }
        port = ((InetSocketAddress) localAddress(ch)).getPort();
        channel = ch;
        Thread.ofPlatform().daemon().name("it-udp-echo-" + name).start(() -> loop(ch));
    }

    private static SocketAddress localAddress(DatagramChannel ch) {
        try {
            return ch.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void loop(DatagramChannel ch) {
        byte[] head = (name + ":").getBytes(StandardCharsets.UTF_8);
        ByteBuffer in = ByteBuffer.allocate(65_535);
        ByteBuffer out = ByteBuffer.allocate(65_535 + head.length);
        while (ch.isOpen()) {
            try {
                in.clear();
                SocketAddress from = ch.receive(in);
                in.flip();
                packets.incrementAndGet();
                peers.add(from);
                out.clear();
                if (prefix) {
                    out.put(head);
                }
                if (out.remaining() < in.remaining()) {
                    in.limit(in.position() + out.remaining());
                }
                out.put(in).flip();
                ch.send(out, from);
            } catch (ClosedChannelException e) {
                return;
            } catch (SocketException e) {
                // an ICMP error for an earlier reply: keep serving
            } catch (IOException e) {
                return;
            }
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

    long packets() {
        return packets.get();
    }

    /** Distinct source addresses seen: one per Aegis session. */
    int peers() {
        return peers.size();
    }

    void stop() {
        DatagramChannel ch = channel;
        channel = null;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    void restart() {
        if (channel == null) {
            bind(port);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
