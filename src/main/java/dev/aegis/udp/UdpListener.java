package dev.aegis.udp;

import dev.aegis.backend.Attempts;
import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.proxyprotocol.DatagramPeek;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A UDP listener: one {@link DatagramChannel} bound to the listen address, in front of a
 * {@link BackendPool} ({@code proxy.udp_backends} when configured, else {@code proxy.backends}).
 *
 * <p>The first datagram from a new client address opens a session bound to one backend chosen by
 * the pool's balancer (keyed on the client IP, so consistent hash and session affinity work as for
 * TCP); every later datagram of that client goes to the same backend, and the backend's replies go
 * back to the client from the listen address. A session ends when it was idle for
 * {@link UdpSettings#sessionTimeout()}, when its backend is removed from the pool or fails its
 * health check, when the backend socket reports an error, when {@link UdpSettings#responses()}
 * replies came back, or when the listener closes; each end writes one access line.
 *
 * <p>A sender listed in {@code proxy_protocol.accept_from} ({@link UdpSettings#acceptFrom()}) is a
 * proxy in front: each of its datagrams must start with a PROXY v2 header (else it is dropped and
 * counted {@code bad_proxy_header}); the header's source is the client, the session is keyed by
 * sender and client ({@link SessionTable}'s second map, looked up with a reused probe key), and
 * replies go back to the sender.
 *
 * <p>With {@link UdpSettings#perPacket()} a client's session is not bound to one backend: every
 * datagram is balanced on its own and leaves through the session's connected channel to the backend
 * picked ({@link BackendLeg}, one per backend used), and every reply still goes to the client. A
 * backend whose address has port 0 is reached on this listener's own port.
 *
 * <h2>Threads</h2>
 * A listener runs exactly two platform threads whatever the number of sessions (virtual threads for
 * the ports of a range, see {@link #onVirtualThreads}), and shares a third with every other
 * listener of the process:
 * <ul>
 *   <li>{@code aegis-udp-reader-PORT}: receives every client datagram into one reused 64 KiB direct
 *       buffer, finds the session and writes the datagram to the session's connected, non-blocking
 *       backend channel (a UDP send never waits for the peer). A platform thread because it never
 *       idles under load: a virtual thread would add a poller round trip per datagram.</li>
 *   <li>{@code aegis-udp-relay-PORT}: one {@link Selector} over all backend channels and one reused
 *       64 KiB buffer, sending replies out through the listen channel ({@link ReplyRelay}).</li>
 *   <li>{@code aegis-udp-sweeper}, one for the process: ends idle and orphaned sessions of every
 *       listener every {@code clamp(udp_session / 4, 10 ms, 1 s)} and writes their access lines.
 *       Shared so that an idle listener (a service's, a port of a range) costs no thread of its
 *       own for housekeeping.</li>
 * </ul>
 * <b>A session costs no thread</b>, virtual or platform: it is a table entry, a small object with
 * its counters, and one connected {@link DatagramChannel} (a file descriptor). A virtual thread per
 * session was rejected because a reader parked in {@code read} must hold a buffer that fits the
 * largest datagram, 64 KiB per session; see {@link ReplyRelay}. Measured with 10,000 sessions on
 * JDK 25: about 1.3 KB of Java heap per session (mostly the JDK's channel and selection key) and
 * about 0.1 KB of native memory (the channel's socket-address buffers), plus the kernel's socket.
 * Each session holds one file descriptor (a per-packet session one per backend it has used), so
 * {@code udp_max_sessions} must stay below the process's open-file limit.
 *
 * <h2>Allocation</h2>
 * Forwarding allocates nothing per datagram in steady state except what the JDK's
 * {@link DatagramChannel#receive} does: it caches the sender's {@link InetSocketAddress} and only
 * decodes a new one (about 100 bytes, dying young) when the sender differs from the previous
 * datagram's. Session lookup, counters and both sends allocate nothing. (An empty datagram from a
 * client is the exception: it goes out through a short-lived second socket, see sendEmpty.)
 */
public final class UdpListener implements AutoCloseable {

    /** Receive buffers hold the largest datagram IPv4 can carry (65,507 payload bytes) and more. */
    static final int MAX_DATAGRAM = 65_535;
    /** Requested socket buffers of the listen channel: bursts from many clients queue here. */
    private static final int LISTEN_SOCKET_BUFFER = 4 * 1024 * 1024;
    private static final long MIN_SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Local failures less than this apart are one episode: one warning. */
    private static final long EPISODE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Opens a backend-facing channel; a seam so that tests can make it fail as EMFILE does. */
    @FunctionalInterface
    interface ChannelOpener {
        DatagramChannel open(ProtocolFamily family) throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(UdpListener.class);

    private final InetSocketAddress bind;
    private final BackendPool pool;
    private final SessionTable table;
    /** Serialises start and close; never taken on the datagram path. */
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final Runnable sweepTask = this::sweepAndReschedule;

    private volatile UdpSettings settings;
    private volatile boolean draining;
    private volatile boolean closed;
    private boolean started;

    private DatagramChannel listen;
    private volatile InetSocketAddress local;
    /** The bound port: what a port-less backend is reached on (SPEC §9). */
    private int listenPort;
    private Selector selector;
    private ReplyRelay relay;
    private Thread reader;
    private Thread relayThread;
    /** Reader and relay on virtual threads (a port of a range); set before {@link #start}. */
    private boolean virtualThreads;

    /** Sweeps the sessions of every UDP listener of the process (see the class comment). */
    private static final ScheduledThreadPoolExecutor SWEEPER = sharedSweeper();
    private volatile ScheduledFuture<?> nextSweep;

    /** Written by the reader thread only. */
    private volatile long packetsFromClients;
    private volatile long bytesFromClients;
    private final LongAdder droppedNoBackend = new LongAdder();
    private final LongAdder droppedRateLimited = new LongAdder();
    private final LongAdder droppedPacketRate = new LongAdder();
    private final LongAdder droppedDraining = new LongAdder();
    private final LongAdder datagramsUnsent = new LongAdder();
    private final LongAdder droppedLocalError = new LongAdder();
    /** When the latest local failure (no descriptor for a backend channel) happened; 0 = none yet. */
    private final AtomicLong lastLocalFailure = new AtomicLong();
    private volatile ChannelOpener channels = DatagramChannel::open;
    /** The session step of {@link Attempts}, made once: a method reference per session would allocate. */
    private final Attempts.Step<InetSocketAddress> openOnBackend = this::openOn;
    /** Reader thread only: the session {@link #openOn} opened, handed back to {@link #openSession}. */
    private UdpSession opened;
    /** The per-packet step of {@link Attempts}, made once like {@link #openOnBackend}. */
    private final Attempts.Step<UdpSession> sendOnBackend = this::sendOn;
    /** Reader thread only: the datagram {@link #sendOn} passes on. */
    private ByteBuffer pending;
    /** Reader thread only: {@link #sendOn} found its session ended; the datagram opens a new one. */
    private boolean sessionGone;
    private final LongAdder droppedBadProxyHeader = new LongAdder();
    /** Reader thread only: reads the v2 header of a datagram from an accept_from sender. */
    private final DatagramPeek peek = new DatagramPeek();
    /** Reader thread only: refilled per datagram from an accept_from sender to find its session. */
    private final ProxiedKey probe = new ProxiedKey();
    /** Reader thread only: the sender and key of the accept_from session being opened; null otherwise. */
    private InetSocketAddress openingPeer;
    private ProxiedKey openingKey;

    /**
     * @param bind     the listen address ({@code proxy.listen.udp}); port 0 picks a free port
     * @param pool     the backends serving this listener
     * @param settings session timeout, limit, access log and admission hook
     */
    public UdpListener(InetSocketAddress bind, BackendPool pool, UdpSettings settings) {
        this(bind, pool, settings, new AtomicInteger());
    }

    /**
     * @param serviceSessions the live sessions of every listener of the service, which
     *                        {@code udp_max_sessions} limits; shared by the ports of a service
     */
    public UdpListener(InetSocketAddress bind, BackendPool pool, UdpSettings settings, AtomicInteger serviceSessions) {
        this.bind = Objects.requireNonNull(bind, "bind");
        this.pool = Objects.requireNonNull(pool, "pool");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.table = new SessionTable(this::channelClosed, serviceSessions);
    }

    /**
     * Binds the listen address and starts the threads.
     *
     * @throws BindException if the address cannot be bound; the message names the address
     * @throws IllegalStateException if already started or closed
     */
    public void start() throws IOException {
        lifecycle.lock();
        try {
            if (started || closed) {
                throw new IllegalStateException("udp listener already " + (closed ? "closed" : "started"));
            }
            DatagramChannel ch = DatagramChannel.open(bind.getAddress() instanceof Inet6Address
                    ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
            Selector sel = null;
            try {
                // The kernel caps these at net.core.[rw]mem_max; a bigger queue absorbs bursts.
                ch.setOption(StandardSocketOptions.SO_RCVBUF, LISTEN_SOCKET_BUFFER);
                ch.setOption(StandardSocketOptions.SO_SNDBUF, LISTEN_SOCKET_BUFFER);
                try {
                    ch.bind(bind);
                } catch (BindException e) {
                    throw new BindException("cannot bind UDP listener to " + UdpSession.format(bind)
                            + ": " + e.getMessage());
                }
                sel = Selector.open();
            } catch (IOException | RuntimeException e) {
                UdpSession.closeQuietly(ch);
                if (sel != null) {
                    sel.close();
                }
                throw e;
            }
            listen = ch;
            local = (InetSocketAddress) ch.getLocalAddress();
            listenPort = local.getPort();
            selector = sel;
            relay = new ReplyRelay(sel, ch, this, datagramsUnsent);
            String port = Integer.toString(local.getPort());
            Thread.Builder threads = virtualThreads ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
            relayThread = threads.name("aegis-udp-relay-" + port).unstarted(relay);
            reader = threads.name("aegis-udp-reader-" + port).unstarted(this::readLoop);
            started = true;
            relayThread.start();
            reader.start();
            scheduleSweep();
        } finally {
            lifecycle.unlock();
        }
        UdpSettings st = settings;
        LOG.info("udp listener started listener={} service={} pool={} udp_session={} max_sessions={} responses={} per_packet={}",
                name(), st.service(), pool.name(), dev.aegis.config.Durations.format(st.sessionTimeout()),
                st.maxSessions(), st.responses(), st.perPacket());
    }

    /**
     * Runs this listener's reader and relay on virtual threads instead of platform threads; call
     * before {@link #start}. For the ports of a range: each port as a platform-thread pair costs
     * two kernel threads and their stacks, about 330 KB of RSS per idle port against about 135 KB
     * (measured with 1,024 ports: 339 MB and 2,072 threads, 142 MB and 26 threads). A busy single
     * listener keeps platform threads: there a virtual reader would add a poller round trip
     * whenever it runs dry.
     *
     * @return this
     */
    public UdpListener onVirtualThreads() {
        lifecycle.lock();
        try {
            if (started) {
                throw new IllegalStateException("udp listener already started");
            }
            virtualThreads = true;
            return this;
        } finally {
            lifecycle.unlock();
        }
    }

    /** The bound address (with the real port when the configured port was 0). */
    public InetSocketAddress localAddress() {
        InetSocketAddress a = local;
        if (a == null) {
            throw new IllegalStateException("udp listener not started");
        }
        return a;
    }

    /** Applies reloaded settings: new sessions at once, idle expiry from the next sweep. */
    public void reconfigure(UdpSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Draining: no new sessions (their datagrams are dropped and counted); open sessions carry on. */
    public void setDraining(boolean draining) {
        this.draining = draining;
    }

    public boolean isDraining() {
        return draining;
    }

    public int sessionCount() {
        return table.size();
    }

    public UdpStats stats() {
        ReplyRelay r = relay;
        return new UdpStats(table.size(),
                table.created(), table.expired(), table.ended(),
                table.droppedMaxSessions(), droppedNoBackend.sum(), droppedRateLimited.sum(), droppedDraining.sum(),
                droppedPacketRate.sum(), droppedLocalError.sum(),
                datagramsUnsent.sum(),
                packetsFromClients, bytesFromClients,
                r == null ? 0 : r.packetsToClients(), r == null ? 0 : r.bytesToClients(),
                droppedBadProxyHeader.sum());
    }

    /** A snapshot of the live sessions (for the admin API); weakly consistent, never blocks traffic. */
    public List<UdpSessionView> sessions() {
        long now = System.nanoTime();
        List<UdpSessionView> views = new ArrayList<>(table.size());
        for (UdpSession s : table.sessions()) {
            views.add(s.view(now));
        }
        return views;
    }

    /**
     * Stops receiving and ends every session (each writes its access line with
     * {@code reason=listener_closed} and releases its backend slot). Does not wait for the
     * listener's threads: they stop by themselves once they see the closed channel, selector or
     * scheduler (the relay closes the selector on its way out, which completes the deferred close
     * of the session channels). The caller is typically the housekeeping thread, which must not be
     * held up. Idempotent.
     */
    @Override
    public void close() {
        lifecycle.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            draining = true;
            if (!started) {
                return;
            }
        } finally {
            lifecycle.unlock();
        }
        ScheduledFuture<?> sweep = nextSweep;
        if (sweep != null) {
            sweep.cancel(false);
        }
        UdpSession.closeQuietly(listen); // wakes the reader out of receive(); stops the relay's sends
        relay.stop(); // the relay thread closes the selector when it leaves
        // A session the reader opens from here on sees `closed` and ends itself (see bind).
        table.endAll(EndReason.LISTENER_CLOSED, settings.accessLog());
        LOG.info("udp listener closed listener={} service={}", name(), settings.service());
    }

    /**
     * As {@link #close}, and waits up to {@code timeout} for the reader thread to leave its
     * receive: the kernel releases the port only then (the closed descriptor's socket lives on
     * while a system call holds it). For a caller that binds the address again or reports it
     * free, such as a reload that was rejected after binding it.
     */
    public void closeAndAwait(Duration timeout) {
        close();
        Thread t;
        lifecycle.lock();
        try {
            t = reader;
        } finally {
            lifecycle.unlock();
        }
        if (t != null) {
            try {
                t.join(timeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The listener's name in logs: its bound address, or the configured one before binding. */
    String name() {
        InetSocketAddress a = local;
        return UdpSession.format(a != null ? a : bind);
    }

    long readerThreadId() {
        return reader.threadId();
    }

    long relayThreadId() {
        return relayThread.threadId();
    }

    // ---- client -> backend: the reader thread ----

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(MAX_DATAGRAM);
        DatagramChannel ch = listen;
        while (true) {
            buf.clear();
            SocketAddress from;
            try {
                from = ch.receive(buf);
            } catch (ClosedChannelException e) {
                return; // close()
            } catch (IOException e) {
                if (!ch.isOpen()) {
                    return;
                }
                LOG.warn("udp receive failed listener={} service={} error=\"{}\"", name(), settings.service(), e.toString());
                continue;
            }
            if (from == null) {
                continue;
            }
            buf.flip();
            try {
                route((InetSocketAddress) from, buf);
            } catch (RuntimeException e) {
                LOG.error("udp datagram routing bug listener={} service={}", name(), settings.service(), e);
            }
        }
    }

    /** Forwards one client datagram, opening a session for a new client. */
    private void route(InetSocketAddress client, ByteBuffer datagram) {
        if (settings.acceptFrom().contains(client.getAddress())) { // no allocation for IPv4
            routeProxied(client, datagram);
            return;
        }
        int len = datagram.remaining();
        packetsFromClients++;
        bytesFromClients += len;
        // Two rounds at most: the session found may end under us (sweep, backend error); then the
        // datagram opens a new session instead of being lost.
        for (int round = 0; round < 2; round++) {
            UdpSession s = table.get(client);
            if (s == null) {
                s = openSession(client);
                if (s == null) {
                    return; // dropped and counted
                }
            }
            if (forward(s, datagram, len)) {
                return;
            }
        }
        datagramsUnsent.increment();
    }

    /**
     * A datagram from an {@code accept_from} sender (SPEC §10): it must start with a v2 header,
     * else it is dropped and counted. The payload after the header is forwarded on the session of
     * this sender and the client the header names (the sender for LOCAL or no address); replies
     * go to the sender. A known pair allocates nothing: the header is peeked into a reused holder
     * and the session found with a reused probe key.
     */
    private void routeProxied(InetSocketAddress sender, ByteBuffer datagram) {
        packetsFromClients++;
        bytesFromClients += datagram.remaining();
        int headerLength = peek.peek(datagram);
        if (headerLength < 0) {
            droppedBadProxyHeader.increment();
            if (LOG.isDebugEnabled()) {
                LOG.debug("udp datagram dropped listener={} peer={} reason=bad_proxy_header", name(),
                        UdpSession.format(sender));
            }
            return;
        }
        datagram.position(datagram.position() + headerLength);
        int len = datagram.remaining();
        ProxiedKey key = probe.set(sender, peek.address(), peek.addressLength(), peek.port());
        for (int round = 0; round < 2; round++) {
            UdpSession s = table.get(key);
            if (s == null) {
                s = openProxiedSession(sender, key);
                if (s == null) {
                    return; // dropped and counted
                }
            }
            if (forward(s, datagram, len)) {
                return;
            }
        }
        datagramsUnsent.increment();
    }

    private UdpSession openProxiedSession(InetSocketAddress sender, ProxiedKey key) {
        InetSocketAddress client = sender;
        int n = peek.addressLength();
        if (n > 0) {
            try {
                client = new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOf(peek.address(), n)), peek.port());
            } catch (UnknownHostException e) {
                throw new AssertionError("4 or 16 address bytes", e);
            }
        }
        openingPeer = sender;
        openingKey = key.copy();
        try {
            return openSession(client);
        } finally {
            openingPeer = null;
            openingKey = null;
        }
    }

    /** @return false if the session turned out to be ended; the datagram was not consumed */
    private boolean forward(UdpSession s, ByteBuffer datagram, int len) {
        long now = System.nanoTime();
        if (!s.packetLimit.tryTake()) {
            s.countFromClient(0, now);
            droppedPacketRate.increment(); // over per_connection.packets_per_second: dropped, as nginx's limit would
            return true;
        }
        if (s.perPacket) {
            return forwardPerPacket(s, datagram, len, now);
        }
        BackendLeg leg = s.leg;
        if (len == 0 && !s.sendsProxyHeader()) { // with a header the datagram is not empty
            try {
                sendEmpty(leg, datagram);
            } catch (ClosedChannelException e) {
                return false; // the session's channel was closed: it ended
            }
            s.countFromClient(0, now);
            return true;
        }
        int n;
        try {
            n = s.send(leg, datagram);
        } catch (ClosedChannelException e) {
            return false;
        } catch (IOException e) {
            // typically PortUnreachableException: an ICMP error for an earlier datagram
            backendFailed(s, e);
            return false;
        }
        s.countFromClient(len, now);
        if (n == 0) {
            datagramsUnsent.increment(); // the backend socket's send buffer was full
        }
        return true;
    }

    /**
     * Per packet: balances this one datagram ({@link Attempts} over the pool, so unhealthy,
     * draining, full and circuit-open backends are skipped, and a backend whose leg reports an
     * error is charged a failure and the next one is tried).
     *
     * @return false if the session turned out to be ended; the datagram was not consumed
     */
    private boolean forwardPerPacket(UdpSession s, ByteBuffer datagram, int len, long now) {
        pending = datagram;
        sessionGone = false;
        Attempts.Result result = Attempts.run(pool.current(), s.clientHash, Integer.MAX_VALUE, sendOnBackend, s);
        pending = null;
        if (result == Attempts.Result.CONNECTED) {
            s.countFromClient(len, now);
            return true;
        }
        if (sessionGone) {
            return false;
        }
        if (result == Attempts.Result.LOCAL_FAILURE) {
            droppedLocalError.increment();
        } else {
            droppedNoBackend.increment();
        }
        return true;
    }

    /**
     * One datagram of a per-packet session to {@code b}, whose slot {@link Attempts} took for it.
     * What counts as a request to the backend is the datagram: the slot is given back as soon as
     * the datagram is handed to the kernel, so {@code total_connections} counts datagrams and
     * {@code active_connections} stays near 0 (a UDP datagram has no lifetime to hold a slot for;
     * {@code max_connections} therefore does not limit per-packet traffic). A failure is a send
     * error here or an ICMP error read by the relay (one per error the kernel reports); a
     * success is each reply ({@link ReplyRelay}). The leg to {@code b} is opened on first use.
     */
    private Attempts.Outcome sendOn(Backend b, UdpSession s) {
        if (s.isEnded()) {
            sessionGone = true;
            return Attempts.Outcome.SKIPPED;
        }
        InetSocketAddress target = b.targetFor(listenPort);
        BackendLeg leg = s.legTo(b, target);
        if (leg == null) {
            DatagramChannel ch;
            try {
                ch = channels.open(familyOf(target));
            } catch (IOException e) {
                localFailure(e);
                return Attempts.Outcome.LOCAL_FAILURE;
            }
            try {
                leg = BackendLeg.open(s, b, ch, target);
            } catch (IOException | RuntimeException e) {
                LOG.warn("udp backend socket failed listener={} service={} backend={} error=\"{}\"",
                        name(), s.service, b.id(), e.toString());
                return Attempts.Outcome.BACKEND_FAILED;
            }
            try {
                relay.register(leg);
            } catch (IOException | RuntimeException e) {
                leg.close(); // only when the listener is closing under us
                return Attempts.Outcome.SKIPPED;
            }
            BackendLeg replaced = s.addLeg(leg);
            if (replaced != null) {
                replaced.close();
                channelClosed();
            }
            // end() closes the legs it sees; one added after it looked is closed here
            if (s.isEnded()) {
                leg.close();
                sessionGone = true;
                return Attempts.Outcome.SKIPPED;
            }
        }
        ByteBuffer datagram = pending;
        if (datagram.remaining() == 0 && !s.sendsProxyHeader()) { // with a header the datagram is not empty
            try {
                sendEmpty(leg, datagram);
            } catch (ClosedChannelException e) {
                sessionGone = s.isEnded();
                return Attempts.Outcome.SKIPPED; // the leg was closed (sweep, error): another backend
            }
            b.release();
            return Attempts.Outcome.CONNECTED;
        }
        int n;
        try {
            n = s.send(leg, datagram);
        } catch (ClosedChannelException e) {
            sessionGone = s.isEnded();
            return Attempts.Outcome.SKIPPED;
        } catch (IOException e) {
            // an ICMP error for an earlier datagram: the backend is charged (Attempts), its leg is
            // closed (the next datagram for it opens a fresh one), this datagram tries another
            legClosed(leg, e);
            return Attempts.Outcome.BACKEND_FAILED;
        }
        b.release();
        if (n == 0) {
            datagramsUnsent.increment(); // the backend socket's send buffer was full
        }
        return Attempts.Outcome.CONNECTED;
    }

    /**
     * Sends an empty datagram from a leg's port to its backend. The JDK skips the system call for
     * an empty write on a connected channel (and {@code send} on a connected channel is such a
     * write), so it goes out through a second, unconnected socket bound to the leg's own address
     * (both have SO_REUSEADDR, see {@link BackendLeg#open}): the backend sees it come from the
     * leg's port, and its reply still reaches the connected leg channel, which the kernel prefers
     * for datagrams from its peer. Rare, so the extra socket (and its allocation) per empty
     * datagram does not matter. A failure is counted here ({@code datagramsUnsent}, or
     * {@code droppedLocalError} with no descriptor left).
     *
     * @throws ClosedChannelException if the leg's channel was closed (its session ended)
     */
    private void sendEmpty(BackendLeg leg, ByteBuffer empty) throws ClosedChannelException {
        DatagramChannel side;
        try {
            side = channels.open(familyOf(leg.target));
        } catch (IOException e) {
            droppedLocalError.increment();
            localFailure(e);
            return;
        }
        try {
            side.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            side.bind(leg.channel.getLocalAddress());
            side.send(empty, leg.target);
        } catch (ClosedChannelException e) {
            if (!leg.isOpen()) {
                throw e;
            }
            datagramsUnsent.increment();
        } catch (IOException e) {
            datagramsUnsent.increment();
            if (LOG.isDebugEnabled()) {
                LOG.debug("udp empty datagram not sent listener={} client={} error=\"{}\"",
                        name(), UdpSession.format(leg.session.client), e.toString());
            }
        } finally {
            UdpSession.closeQuietly(side);
        }
    }

    private UdpSession openSession(InetSocketAddress client) {
        UdpSettings st = settings;
        if (draining) {
            droppedDraining.increment();
            return null;
        }
        if (!table.hasRoom(st.maxSessions())) { // counted by the table
            return null;
        }
        if (!st.admission().admitNewSession(client)) {
            droppedRateLimited.increment();
            return null;
        }
        int hash = Balancers.hashClient(client.getAddress()); // the same hash as TCP: a client sticks alike
        if (st.perPacket()) {
            return openPerPacket(client, hash, st);
        }
        opened = null;
        // every eligible backend is tried once: UDP has no retry limit of its own
        Attempts.Result result = Attempts.run(pool.current(), hash, Integer.MAX_VALUE, openOnBackend, client);
        UdpSession s = opened;
        opened = null;
        if (result == Attempts.Result.CONNECTED && s != null) {
            return s;
        }
        if (result == Attempts.Result.LOCAL_FAILURE) {
            droppedLocalError.increment();
            return null;
        }
        droppedNoBackend.increment(); // no backend, every backend failed, or the listener closed under us
        if (LOG.isDebugEnabled()) {
            LOG.debug("udp session refused listener={} client={} reason=no_backend", name(), UdpSession.format(client));
        }
        return null;
    }

    /**
     * The destination of a session's v2 PROXY header (SPEC §10), or null when the settings send
     * none: the listener's bound address (a wildcard listener's, as bound: telling which local
     * address a datagram reached would take IP_PKTINFO, which the JDK does not expose).
     */
    private InetSocketAddress proxyDestination(UdpSettings st) {
        return st.proxyHeader() ? local : null;
    }

    /** A per-packet session: no backend yet, each datagram picks one ({@link #sendOn}). */
    private UdpSession openPerPacket(InetSocketAddress client, int hash, UdpSettings st) {
        UdpSession s = UdpSession.perPacket(client, st.packetBuckets().get(), st.responses(), hash, st.service(),
                proxyDestination(st), openingPeer, openingKey);
        table.add(s);
        if (closed) {
            end(s, EndReason.LISTENER_CLOSED); // close() may have swept the table before s was in it
            return null;
        }
        return s;
    }

    /**
     * One session opened on a backend whose slot is held ({@link Attempts}); leaves the session in
     * {@link #opened}. Opening the channel is local (a failure there is not the backend's);
     * connecting it to the backend is the backend's.
     */
    private Attempts.Outcome openOn(Backend b, InetSocketAddress client) {
        InetSocketAddress target = b.targetFor(listenPort); // a port-less backend: the port the client reached
        DatagramChannel ch;
        try {
            ch = channels.open(familyOf(target));
        } catch (IOException e) {
            // Local trouble (typically no descriptor left): not the backend's fault, and
            // no other backend would fare better.
            localFailure(e);
            return Attempts.Outcome.LOCAL_FAILURE;
        }
        return bind(client, b, ch, target);
    }

    private static ProtocolFamily familyOf(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    /**
     * A backend channel could not be opened (typically no descriptor left). Logged once per
     * episode, as TCP does: failures less than a second apart are one episode.
     */
    private void localFailure(IOException e) {
        long now = System.nanoTime();
        long previous = lastLocalFailure.getAndSet(now);
        if (previous == 0 || now - previous > EPISODE_NANOS) {
            LOG.warn("cannot open a backend socket, dropping new sessions listener={} service={} error=\"{}\"",
                    name(), settings.service(), e.getMessage());
        }
    }

    /** Test seam: how backend channels are opened. */
    void openChannelsWith(ChannelOpener opener) {
        this.channels = Objects.requireNonNull(opener, "opener");
    }

    /**
     * Opens the session on a backend whose slot is already taken, with a freshly opened channel;
     * closes the channel on failure ({@link Attempts} gives the slot back).
     */
    private Attempts.Outcome bind(InetSocketAddress client, Backend b, DatagramChannel ch, InetSocketAddress target) {
        UdpSettings st = settings;
        UdpSession s;
        try {
            s = UdpSession.open(client, b, ch, target, st.packetBuckets().get(), st.responses(), st.service(),
                    proxyDestination(st), openingPeer, openingKey);
        } catch (IOException | RuntimeException e) {
            UdpSession.closeQuietly(ch);
            // IOException, or UnresolvedAddressException when the backend's name did not resolve
            LOG.warn("udp backend socket failed listener={} service={} backend={} error=\"{}\"",
                    name(), st.service(), b.id(), e.toString());
            return Attempts.Outcome.BACKEND_FAILED;
        }
        try {
            relay.register(s.leg);
        } catch (IOException | RuntimeException e) {
            // only when the listener is closing under us
            s.leg.close();
            return Attempts.Outcome.SKIPPED;
        }
        table.add(s);
        if (closed) {
            // close() may have ended the table's sessions before this one was in it; end() gives
            // the slot back, so this counts as connected with no session
            end(s, EndReason.LISTENER_CLOSED);
            return Attempts.Outcome.CONNECTED;
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("udp session opened listener={} client={} backend={}", name(), UdpSession.format(client), b.id());
        }
        opened = s;
        return Attempts.Outcome.CONNECTED;
    }

    // ---- session ends: any thread ----

    /** The backend socket reported an error: one failure for the circuit breaker, and the session ends. */
    void backendFailed(UdpSession s, IOException e) {
        if (s.claimOutcome()) {
            s.leg.backend.recordFailure();
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("udp backend error listener={} client={} backend={} error=\"{}\"",
                    name(), UdpSession.format(s.client), s.leg.backend.id(), e.toString());
        }
        end(s, EndReason.BACKEND_ERROR);
    }

    /**
     * The relay read an error on a leg. A sticky session ends ({@link #backendFailed}); a
     * per-packet session charges the backend one failure and closes only that leg: its next
     * datagram for that backend (if the circuit still lets one through) opens a fresh leg.
     */
    void legFailed(BackendLeg leg, IOException e) {
        if (!leg.session.perPacket) {
            backendFailed(leg.session, e);
            return;
        }
        leg.backend.recordFailure();
        legClosed(leg, e);
    }

    /** Closes one leg of a per-packet session after an error; the session carries on. */
    private void legClosed(BackendLeg leg, IOException e) {
        leg.close();
        channelClosed();
        if (LOG.isDebugEnabled()) {
            LOG.debug("udp backend error listener={} client={} backend={} error=\"{}\"",
                    name(), UdpSession.format(leg.session.client), leg.backend.id(), e.toString());
        }
    }

    /** Takes a session out of the table ahead of its end ({@link SessionTable#retire}). */
    void retire(UdpSession s) {
        table.retire(s);
    }

    /** The backend replied: one success for the circuit breaker (closes a half-open circuit). */
    void backendAnswered(UdpSession s) {
        if (s.claimOutcome()) {
            s.leg.backend.recordSuccess();
        }
    }

    /** Ends a session once ({@link SessionTable#end}). @return true if this call ended it */
    boolean end(UdpSession s, EndReason reason) {
        return table.end(s, reason, settings.accessLog());
    }

    /** A session's channel was closed: the relay's selector finishes closing it. */
    private void channelClosed() {
        ReplyRelay r = relay;
        if (r != null) {
            r.wakeup();
        }
    }

    // ---- housekeeping: the sweeper thread ----

    /**
     * Ends sessions that are idle, whose backend left the pool (draining) or whose backend is
     * unhealthy while a healthy one exists; the client's next datagram then opens a session on an
     * available backend. (With no healthy backend at all, sessions stay where they are: moving
     * them would only land on another unhealthy backend, see BackendSet's panic mode.)
     */
    void sweep() {
        UdpSettings st = settings;
        boolean someHealthy = pool.current().backends().stream().anyMatch(Backend::isHealthy);
        table.sweep(System.nanoTime(), st.sessionTimeout().toNanos(), someHealthy, st.accessLog());
    }

    private void sweepAndReschedule() {
        try {
            sweep();
        } catch (Exception e) {
            LOG.error("udp session sweep failed listener={} service={}", name(), settings.service(), e);
        } finally {
            if (!closed) {
                scheduleSweep();
            }
        }
    }

    /** Re-armed after every sweep so that a reload's new timeout changes the pace too. */
    private void scheduleSweep() {
        long period = Math.min(MAX_SWEEP_NANOS, Math.max(MIN_SWEEP_NANOS, settings.sessionTimeout().toNanos() / 4));
        nextSweep = SWEEPER.schedule(sweepTask, period, TimeUnit.NANOSECONDS);
    }

    private static ScheduledThreadPoolExecutor sharedSweeper() {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1,
                r -> Thread.ofPlatform().name("aegis-udp-sweeper").daemon().unstarted(r));
        e.setRemoveOnCancelPolicy(true); // a closed listener's next sweep does not linger in the queue
        return e;
    }
}
