package dev.aegis.udp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend-to-client half of a UDP listener: one platform thread, one {@link Selector} over the
 * backend channels of all sessions, one reused direct buffer. A readable session channel is drained
 * (up to {@link #BURST} datagrams, for fairness between sessions) and every reply is sent to the
 * session's client through the listen channel, so it leaves from the listen address.
 *
 * <p>Why a selector and not a virtual thread per session: a blocked read must own a buffer big
 * enough for the largest datagram (65,507 bytes) while it waits, so a parked reader per session
 * costs 64 KiB per session (640 MiB for 10,000 sessions, 6.4 GiB for the default 100,000), and
 * every reply would wake a virtual thread through the JDK's poller. The selector keeps one buffer
 * for all sessions and reads each ready datagram with one system call.
 */
final class ReplyRelay implements Runnable {

    /** Replies read from one session per wakeup before the others get their turn. */
    private static final int BURST = 32;
    private static final Logger LOG = LoggerFactory.getLogger(ReplyRelay.class);

    private final Selector selector;
    private final DatagramChannel listen;
    private final UdpListener owner;
    /**
     * Made on the first reply, not with the listener: allocateDirect zeroes (touches) all 64 KiB, and a
     * listener that never sees a session (an idle service, most ports of a range) should not pay them.
     * Relay thread only.
     */
    private ByteBuffer buffer;
    /** Made once: a method reference evaluated per select() would allocate every time. */
    private final Consumer<SelectionKey> onReadable = this::relay;
    private final LongAdder unsent;
    private volatile boolean running = true;
    /** Written by the relay thread only. */
    private volatile long packetsToClients;
    private volatile long bytesToClients;

    ReplyRelay(Selector selector, DatagramChannel listen, UdpListener owner, LongAdder unsent) {
        this.selector = selector;
        this.listen = listen;
        this.owner = owner;
        this.unsent = unsent;
    }

    /**
     * Starts watching a new session's backend channel. Since JDK 11 {@code register} does not wait
     * for a select in progress; the wakeup makes the selector pick the new channel up now.
     */
    void register(BackendLeg leg) throws ClosedChannelException {
        leg.channel.register(selector, SelectionKey.OP_READ, leg);
        selector.wakeup();
    }

    /**
     * Lets the selector finish closing channels of ended sessions: a channel closed while
     * registered keeps its file descriptor until the selector deregisters it on its next select.
     */
    void wakeup() {
        selector.wakeup();
    }

    void stop() {
        running = false;
        selector.wakeup();
    }

    long packetsToClients() {
        return packetsToClients;
    }

    long bytesToClients() {
        return bytesToClients;
    }

    /**
     * Relays until {@link #stop()}, then closes the selector, which also completes the deferred
     * close of the session channels still registered.
     */
    @Override
    public void run() {
        try {
            while (running) {
                try {
                    selector.select(onReadable);
                } catch (ClosedSelectorException e) {
                    return;
                } catch (IOException e) {
                    LOG.warn("udp reply select failed listener={} error=\"{}\"", owner.name(), e.toString());
                } catch (RuntimeException e) {
                    LOG.error("udp reply relay bug listener={}", owner.name(), e);
                }
            }
        } finally {
            try {
                selector.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    private void relay(SelectionKey key) {
        BackendLeg leg = (BackendLeg) key.attachment();
        UdpSession s = leg.session;
        ByteBuffer buf = buffer;
        if (buf == null) {
            buf = buffer = ByteBuffer.allocateDirect(UdpListener.MAX_DATAGRAM);
        }
        for (int i = 0; i < BURST; i++) {
            buf.clear();
            try {
                if (leg.channel.receive(buf) == null) {
                    return; // drained
                }
            } catch (ClosedChannelException e) {
                return; // the session (or this leg) ended meanwhile
            } catch (IOException e) {
                // typically PortUnreachableException: an ICMP error for an earlier datagram
                owner.legFailed(leg, e);
                return;
            }
            boolean last = s.replyReceived();
            if (last) {
                // Out of the table before the client has the reply: a datagram it sends once it
                // has it opens a new session rather than going into this closing one.
                owner.retire(s);
            }
            buf.flip();
            int len = buf.remaining();
            try {
                listen.send(buf, s.replyTo());
                s.countToClient(len, System.nanoTime());
                packetsToClients++;
                bytesToClients += len;
            } catch (ClosedChannelException e) {
                return; // the listener is closing
            } catch (IOException e) {
                unsent.increment();
                if (LOG.isDebugEnabled()) {
                    LOG.debug("udp reply not sent listener={} client={} error=\"{}\"",
                            owner.name(), UdpSession.format(s.client), e.toString());
                }
            }
            if (s.perPacket) {
                leg.backend.recordSuccess(); // per datagram, as its requests are counted
            } else if (!s.outcomeReported()) {
                owner.backendAnswered(s);
            }
            if (last) {
                owner.end(s, EndReason.RESPONSES);
                return;
            }
        }
    }
}
