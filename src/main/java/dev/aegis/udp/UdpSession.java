package dev.aegis.udp;

import dev.aegis.backend.Backend;
import dev.aegis.config.HostPort;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import dev.aegis.proxyprotocol.ProxyHeaderEncoder;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;

/**
 * One client address and its way to the backends: the NAT entry of a UDP listener. Its datagrams
 * leave through {@link BackendLeg}s, connected backend channels whose replies the listener's single
 * {@code ReplyRelay} thread reads, so a session owns no thread and no buffer. Two modes, fixed when
 * the session opens:
 * <ul>
 *   <li><b>sticky</b> (the default): one leg to the backend the balancer chose for the first
 *       datagram; the session holds a slot on that backend ({@link Backend#tryAcquire()}) until it
 *       ends, as a TCP connection does.</li>
 *   <li><b>per packet</b> ({@code udp.per_packet}): every datagram is balanced on its own; the
 *       session opens a leg per backend on first use and holds no backend slot (each datagram takes
 *       and gives back one, see {@code UdpListener}).</li>
 * </ul>
 *
 * <p>Counters have exactly one writer each: the listener's reader thread writes the "from client"
 * pair and the legs, the relay thread the "to client" pair and the reply count. A volatile
 * read-increment-write is therefore exact without a compare-and-set, and the admin API reads
 * consistent values.
 *
 * <p>States: OPEN -> ENDED, once ({@link #markEnded()} wins for exactly one caller: the sweeper, the
 * reader on a send error, the relay on a receive error or the last allowed reply, or
 * {@code close()}). Independently the circuit breaker hears about a sticky session once
 * ({@link #claimOutcome()}): a failure on the first socket error, else a success on the first
 * reply or at the end.
 */
final class UdpSession {

    private static final int ENDED = 1;
    private static final int OUTCOME_REPORTED = 2;
    private static final VarHandle STATE;
    private static final BackendLeg[] NO_LEGS = {};

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(UdpSession.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The client: the sender, or the source a PROXY header named ({@code accept_from}). */
    final InetSocketAddress client;
    /**
     * {@code accept_from}: the real sender (the proxy in front), where replies go; null when the
     * sender is the client.
     */
    final InetSocketAddress peer;
    /** {@code accept_from}: this session's key in the table; null when keyed by {@link #client}. */
    final ProxiedKey key;
    final long createdNanos;
    /** per_connection.packets_per_second of this session; TokenBucket.UNLIMITED when off. */
    final TokenBucket packetLimit;
    /** {@code udp.responses} when the session opened: replies after which it ends; 0 = no limit. */
    final int responseLimit;
    /** {@code udp.per_packet} when the session opened. */
    final boolean perPacket;
    /** What a per-packet pick keys on (consistent hashing): the client IP's hash, computed once. */
    final int clientHash;
    final String service;
    /** Sticky: the one leg. Per packet: null. */
    final BackendLeg leg;
    /**
     * {@code proxy_protocol.send: v2}: {header, payload}, the gathering write of one datagram; the
     * header is encoded once for the session and the payload slot is filled per datagram (reader
     * thread only). Null when off.
     */
    private final ByteBuffer[] withHeader;

    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;
    /** Sticky: {@code {leg}}. Per packet: one per backend used; copied on write by the reader thread. */
    private volatile BackendLeg[] legs = NO_LEGS;
    private volatile long lastSeenNanos;
    private volatile long packetsFromClient;
    private volatile long bytesFromClient;
    private volatile long packetsToClient;
    private volatile long bytesToClient;
    /** Relay thread only: datagrams that came back from the backend(s), relayed or not. */
    private int replies;

    private UdpSession(InetSocketAddress client, long now, TokenBucket packetLimit, int responseLimit,
            boolean perPacket, int clientHash, String service, InetSocketAddress proxyDestination, Backend backend,
            DatagramChannel ch, InetSocketAddress target, InetSocketAddress peer, ProxiedKey key) throws IOException {
        this.client = client;
        this.peer = peer;
        this.key = key;
        this.withHeader = proxyDestination == null ? null : new ByteBuffer[] {
                ByteBuffer.wrap(ProxyHeaderEncoder.v2(Transport.UDP, client, proxyDestination)), null};
        this.createdNanos = now;
        this.lastSeenNanos = now;
        this.packetLimit = packetLimit;
        this.responseLimit = responseLimit;
        this.perPacket = perPacket;
        this.clientHash = clientHash;
        this.service = service;
        if (ch != null) {
            this.leg = BackendLeg.open(this, backend, ch, target);
            this.legs = new BackendLeg[] {leg};
        } else {
            this.leg = null;
        }
    }

    /** A sticky session without a response limit, in the service named {@value UdpSettings#DEFAULT_SERVICE}. */
    static UdpSession open(InetSocketAddress client, Backend backend, DatagramChannel ch, InetSocketAddress target,
            TokenBucket packetLimit) throws IOException {
        return open(client, backend, ch, target, packetLimit, 0, UdpSettings.DEFAULT_SERVICE);
    }

    /**
     * A sticky session: connects a freshly opened backend-facing channel (made non-blocking) to the
     * backend's address. The caller opened {@code ch} and holds a slot on the backend
     * ({@link Backend#tryAcquire()}). On failure the channel is closed.
     *
     * @param target where the backend is reached from this listener, which {@code ch}'s protocol
     *               family was chosen for
     */
    static UdpSession open(InetSocketAddress client, Backend backend, DatagramChannel ch, InetSocketAddress target,
            TokenBucket packetLimit, int responseLimit, String service) throws IOException {
        return open(client, backend, ch, target, packetLimit, responseLimit, service, null);
    }

    /**
     * {@link #open(InetSocketAddress, Backend, DatagramChannel, InetSocketAddress, TokenBucket, int, String)}
     * with {@code proxy_protocol.send: v2}.
     *
     * @param proxyDestination the destination of the v2 header every datagram to the backend starts
     *                         with (the listener's address); null for no header
     */
    static UdpSession open(InetSocketAddress client, Backend backend, DatagramChannel ch, InetSocketAddress target,
            TokenBucket packetLimit, int responseLimit, String service, InetSocketAddress proxyDestination)
            throws IOException {
        return open(client, backend, ch, target, packetLimit, responseLimit, service, proxyDestination, null, null);
    }

    /**
     * As above, for a datagram from an {@code accept_from} source whose header named {@code client}.
     *
     * @param peer the sender, where replies go; null when it is the client
     * @param key  the session's table key when {@code peer} is set
     */
    static UdpSession open(InetSocketAddress client, Backend backend, DatagramChannel ch, InetSocketAddress target,
            TokenBucket packetLimit, int responseLimit, String service, InetSocketAddress proxyDestination,
            InetSocketAddress peer, ProxiedKey key) throws IOException {
        return new UdpSession(client, System.nanoTime(), packetLimit, responseLimit, false, 0, service,
                proxyDestination, backend, ch, target, peer, key);
    }

    /** A per-packet session: no leg yet, the first datagram opens one. */
    static UdpSession perPacket(InetSocketAddress client, TokenBucket packetLimit, int responseLimit, int clientHash,
            String service) {
        return perPacket(client, packetLimit, responseLimit, clientHash, service, null);
    }

    /** A per-packet session whose datagrams carry a v2 PROXY header to {@code proxyDestination} (null: none). */
    static UdpSession perPacket(InetSocketAddress client, TokenBucket packetLimit, int responseLimit, int clientHash,
            String service, InetSocketAddress proxyDestination) {
        return perPacket(client, packetLimit, responseLimit, clientHash, service, proxyDestination, null, null);
    }

    /** A per-packet session from an {@code accept_from} source ({@code peer}: the sender; null: none). */
    static UdpSession perPacket(InetSocketAddress client, TokenBucket packetLimit, int responseLimit, int clientHash,
            String service, InetSocketAddress proxyDestination, InetSocketAddress peer, ProxiedKey key) {
        try {
            return new UdpSession(client, System.nanoTime(), packetLimit, responseLimit, true, clientHash, service,
                    proxyDestination, null, null, null, peer, key);
        } catch (IOException e) {
            throw new AssertionError("no channel, nothing to connect", e);
        }
    }

    // ---- sending ----

    /** Where replies go: the sender of the datagrams (the proxy in front, with {@code accept_from}). */
    InetSocketAddress replyTo() {
        return peer != null ? peer : client;
    }

    /** Whether every datagram to a backend carries a PROXY header (so none is ever empty). */
    boolean sendsProxyHeader() {
        return withHeader != null;
    }

    /**
     * Reader thread: sends one datagram on {@code leg}: the payload, after this session's PROXY
     * header when it has one. The two go out as one datagram (a gathering write on a connected
     * datagram channel sends one), so the payload is never copied and nothing is allocated.
     *
     * @return the bytes sent, 0 when the socket's send buffer was full
     */
    int send(BackendLeg leg, ByteBuffer payload) throws IOException {
        ByteBuffer[] parts = withHeader;
        if (parts == null) {
            return leg.channel.write(payload);
        }
        parts[0].rewind();
        parts[1] = payload;
        try {
            return (int) leg.channel.write(parts);
        } finally {
            parts[1] = null; // the listener's receive buffer: no reference left behind
        }
    }

    // ---- legs ----

    /**
     * Reader thread: the open leg to {@code backend} that is connected to {@code target}, or null.
     * A linear scan over a handful of legs; allocates nothing.
     */
    BackendLeg legTo(Backend backend, InetSocketAddress target) {
        for (BackendLeg l : legs) {
            if (l.backend == backend && l.target == target && l.isOpen()) {
                return l;
            }
        }
        return null;
    }

    /**
     * Reader thread: adds a freshly opened leg; one to the same backend (closed, or connected to
     * an address the backend no longer has) is replaced.
     *
     * @return the replaced leg, which the caller closes; or null
     */
    BackendLeg addLeg(BackendLeg added) {
        BackendLeg[] current = legs;
        for (int i = 0; i < current.length; i++) {
            if (current[i].backend == added.backend) {
                BackendLeg[] next = current.clone();
                next[i] = added;
                legs = next;
                return current[i];
            }
        }
        BackendLeg[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = added;
        legs = next;
        return null;
    }

    /** Closes every leg (the session ends). */
    void closeLegs() {
        for (BackendLeg l : legs) {
            l.close();
        }
    }

    /**
     * Sweeper: closes the legs to backends that left the pool, so their descriptors do not wait
     * for the session to end. @return true if one was closed
     */
    boolean closeLegsOfDrainingBackends() {
        boolean closed = false;
        for (BackendLeg l : legs) {
            if (l.backend.isDraining() && l.isOpen()) {
                l.close();
                closed = true;
            }
        }
        return closed;
    }

    /** Sticky: its backend. Per packet: null. */
    Backend backend() {
        return leg == null ? null : leg.backend;
    }

    /** The backends in the access line and admin API: sticky its one, per packet those used so far. */
    String backendIds() {
        BackendLeg[] ls = legs;
        if (ls.length == 0) {
            return "-";
        }
        StringBuilder ids = new StringBuilder(ls[0].backend.id());
        for (int i = 1; i < ls.length; i++) {
            ids.append(',').append(ls[i].backend.id());
        }
        return ids.toString();
    }

    // ---- counters ----

    /** Reader thread only: one datagram from the client was handed to a backend socket. */
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

    /**
     * Relay thread only: one datagram came back from a backend.
     *
     * @return true if it is the last one {@code udp.responses} allows: the session ends with it
     */
    boolean replyReceived() {
        return responseLimit > 0 && ++replies >= responseLimit;
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

    // ---- state ----

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
        return new UdpSessionView(client, backendIds(),
                Duration.ofNanos(now - createdNanos), Duration.ofNanos(Math.max(0, now - lastSeenNanos)),
                packetsFromClient, bytesFromClient, packetsToClient, bytesToClient);
    }

    /**
     * The access line, in the SPEC's logfmt with nginx's meaning of the byte counters:
     * {@code bytes_sent} went to the client, {@code bytes_received} came from it. A per-packet
     * session names every backend it used, comma-separated.
     */
    String accessLine(EndReason reason, long now) {
        StringBuilder line = new StringBuilder(200)
                .append("access protocol=udp service=").append(service)
                .append(" client_ip=").append(format(client));
        if (peer != null) {
            line.append(" peer=").append(format(peer));
        }
        return line.append(" backend=").append(backendIds())
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
