package dev.aegis.udp;

import dev.aegis.backend.Backend;
import dev.aegis.config.HostPort;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.time.Duration;

/**
 * One client address bound to one backend: the NAT entry of a UDP listener. It owns a
 * non-blocking {@link DatagramChannel} connected to the backend, so the kernel filters replies by
 * source and reports ICMP errors (port unreachable) on it; replies are read by the listener's
 * single {@code ReplyRelay} thread, so a session owns no thread and no buffer.
 *
 * <p>Counters have exactly one writer each: the listener's reader thread writes the "from client"
 * pair, the relay thread the "to client" pair. A volatile read-increment-write is therefore exact
 * without a compare-and-set, and the admin API reads consistent values.
 *
 * <p>States: OPEN -> ENDED, once ({@link #markEnded()} wins for exactly one caller: the sweeper, the
 * reader on a send error, the relay on a receive error, or {@code close()}). Independently the
 * circuit breaker hears about the session once ({@link #claimOutcome()}): a failure on the first
 * socket error, else a success on the first reply or at the end.
 */
final class UdpSession {

    private static final int ENDED = 1;
    private static final int OUTCOME_REPORTED = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(UdpSession.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final InetSocketAddress client;
    final Backend backend;
    final DatagramChannel channel;
    /** The backend address {@link #channel} is connected to. */
    final InetSocketAddress target;
    final long createdNanos;
    /** per_connection.packets_per_second of this session; TokenBucket.UNLIMITED when off. */
    final TokenBucket packetLimit;

    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;
    private volatile long lastSeenNanos;
    private volatile long packetsFromClient;
    private volatile long bytesFromClient;
    private volatile long packetsToClient;
    private volatile long bytesToClient;

    private UdpSession(InetSocketAddress client, Backend backend, DatagramChannel channel, InetSocketAddress target,
            long now, TokenBucket packetLimit) {
        this.client = client;
        this.packetLimit = packetLimit;
        this.backend = backend;
        this.channel = channel;
        this.target = target;
        this.createdNanos = now;
        this.lastSeenNanos = now;
    }

    /**
     * Connects a freshly opened backend-facing channel (made non-blocking) to the backend's
     * address. The caller opened {@code ch} (opening it is a local matter: a failure there is not
     * the backend's) and holds a slot on the backend ({@link Backend#tryAcquire()}). On failure the
     * channel is closed.
     *
     * @param target the backend's current address, which {@code ch}'s protocol family was chosen for
     */
    static UdpSession open(InetSocketAddress client, Backend backend, DatagramChannel ch, InetSocketAddress target,
            TokenBucket packetLimit) throws IOException {
        try {
            ch.configureBlocking(false);
            ch.connect(target);
            // Lets an empty datagram go out from this port through a second socket (the JDK sends
            // nothing for an empty write on a connected channel; see UdpListener.forwardEmpty).
            // Only after connect() has bound the port: with SO_REUSEADDR already set at bind time,
            // Linux may give two sessions the same ephemeral port, and their replies would cross.
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            return new UdpSession(client, backend, ch, target, System.nanoTime(), packetLimit);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Reader thread only: one datagram from the client was handed to the backend socket. */
    void countFromClient(int bytes, long now) {
        lastSeenNanos = now;
        packetsFromClient++;
        bytesFromClient += bytes;
    }

    /** Relay thread only: one reply went to the client. */
    void countToClient(int bytes, long now) {
        lastSeenNanos = now;
        packetsToClient++;
        bytesToClient += bytes;
    }

    long lastSeenNanos() {
        return lastSeenNanos;
    }

    long packetsFromClient() {
        return packetsFromClient;
    }

    long bytesFromClient() {
        return bytesFromClient;
    }

    long packetsToClient() {
        return packetsToClient;
    }

    long bytesToClient() {
        return bytesToClient;
    }

    boolean isEnded() {
        return ((int) STATE.getVolatile(this) & ENDED) != 0;
    }

    /** @return true for the one caller that ends the session (and must release and log it) */
    boolean markEnded() {
        return setBit(ENDED);
    }

    /**
     * @return true for the one caller that reports this session's outcome to the backend's
     *         circuit breaker (so a dead backend costs one failure per session, not per packet)
     */
    boolean claimOutcome() {
        return setBit(OUTCOME_REPORTED);
    }

    /** Cheap pre-check on the reply path before {@link #claimOutcome()}: one volatile read. */
    boolean outcomeReported() {
        return ((int) STATE.getVolatile(this) & OUTCOME_REPORTED) != 0;
    }

    private boolean setBit(int bit) {
        while (true) {
            int s = (int) STATE.getVolatile(this);
            if ((s & bit) != 0) {
                return false;
            }
            if (STATE.compareAndSet(this, s, s | bit)) {
                return true;
            }
        }
    }

    UdpSessionView view(long now) {
        return new UdpSessionView(client, backend.id(),
                Duration.ofNanos(now - createdNanos), Duration.ofNanos(Math.max(0, now - lastSeenNanos)),
                packetsFromClient, bytesFromClient, packetsToClient, bytesToClient);
    }

    /**
     * The access line, in the SPEC's logfmt with nginx's meaning of the byte counters:
     * {@code bytes_sent} went to the client, {@code bytes_received} came from it.
     */
    String accessLine(EndReason reason, long now) {
        return new StringBuilder(200)
                .append("access protocol=udp client_ip=").append(format(client))
                .append(" backend=").append(backend.id())
                .append(" bytes_sent=").append(bytesToClient)
                .append(" bytes_received=").append(bytesFromClient)
                .append(" packets_sent=").append(packetsToClient)
                .append(" packets_received=").append(packetsFromClient)
                .append(" duration_ms=").append((now - createdNanos) / 1_000_000)
                .append(" reason=").append(reason.label())
                .toString();
    }

    /** {@code 1.2.3.4:5555} or {@code [::1]:5555}. */
    static String format(InetSocketAddress address) {
        return HostPort.format(address);
    }

    static void closeQuietly(DatagramChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing a datagram channel has nothing to flush; nothing useful to do
        }
    }
}
