package dev.aegis.udp;

import dev.aegis.backend.Backend;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;

/**
 * One backend-facing channel of a session: a non-blocking {@link DatagramChannel} connected to one
 * backend, so the kernel filters replies by source and reports ICMP errors (port unreachable) on
 * it, and {@code receive} always sees the same sender (the JDK then reuses the sender address it
 * decoded once: no allocation per reply). It is the attachment of its key in the relay's selector.
 *
 * <p>A sticky session has exactly one leg for its whole life. A per-packet session opens a leg per
 * backend its datagrams are balanced to, the first time one goes there, and keeps it (a client with
 * three backends holds three descriptors), so the steady state allocates nothing either way.
 */
final class BackendLeg {

    final UdpSession session;
    final Backend backend;
    final DatagramChannel channel;
    /** The address {@link #channel} is connected to (for a port-less backend: its IP, the listener's port). */
    final InetSocketAddress target;

    private BackendLeg(UdpSession session, Backend backend, DatagramChannel channel, InetSocketAddress target) {
        this.session = session;
        this.backend = backend;
        this.channel = channel;
        this.target = target;
    }

    /**
     * Connects a freshly opened channel to {@code target}. The caller opened {@code ch} (opening it
     * is a local matter: a failure there is not the backend's). On failure the channel is closed.
     */
    static BackendLeg open(UdpSession session, Backend backend, DatagramChannel ch, InetSocketAddress target)
            throws IOException {
        try {
            ch.configureBlocking(false);
            ch.connect(target);
            // Lets an empty datagram go out from this port through a second socket (the JDK sends
            // nothing for an empty write on a connected channel; see UdpListener.sendEmpty).
            // Only after connect() has bound the port: with SO_REUSEADDR already set at bind time,
            // Linux may give two sessions the same ephemeral port, and their replies would cross.
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            return new BackendLeg(session, backend, ch, target);
        } catch (IOException | RuntimeException e) {
            UdpSession.closeQuietly(ch);
            throw e;
        }
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    void close() {
        UdpSession.closeQuietly(channel);
    }
}
