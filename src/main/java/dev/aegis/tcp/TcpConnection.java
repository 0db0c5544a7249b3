package dev.aegis.tcp;

import dev.aegis.backend.Attempts;
import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.backend.BackendSet.Capacity;
import dev.aegis.config.HostPort;
import dev.aegis.proxyprotocol.ParseResult;
import dev.aegis.proxyprotocol.ProxyHeader;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import dev.aegis.proxyprotocol.ProxyHeaderEncoder;
import dev.aegis.proxyprotocol.ProxyHeaderParser;
import dev.aegis.tls.ClientHelloParser;
import dev.aegis.tls.ClientHelloResult;
import dev.aegis.traffic.TokenBucket;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, from accept to close. Lifecycle: admit (limits) -> select a backend
 * -> connect with timeout, retrying on other backends -> two pipes (this thread copies client
 * to backend, a second virtual thread backend to client) -> close. Everything is released once
 * ({@link #finish}: the backend slot, the counters, both sockets and the entry in the listener's
 * live set): by {@link #run()}'s finally when the pipes never started, else by the last pipe to end.
 *
 * <p>Idle parking: a connection idle both ways for {@link TcpListener#PARK_AFTER_NANOS} gives up
 * its pipes' threads and waits in the {@link Parking} selector ({@link #idle}, {@link #wake}).
 * It is still open and counted as such; everything that closes or expires a connection wakes a
 * parked one, so its pipes see the close and end exactly as they would have awake.
 *
 * <p>Timeouts are not socket timeouts: each pipe stamps its own progress ({@link Pipe#progressNanos},
 * {@link Pipe#writing}; one writer per field, so the two directions never lose each other's
 * updates), and the listener's sweeper closes connections that ran out of time. That keeps the
 * copy loops free of timer bookkeeping.
 *
 * <p>A timeout never ends a stream with a FIN that would make it look complete: see
 * {@link #timedOut(CloseReason)}.
 */
final class TcpConnection implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(TcpConnection.class);

    private final TcpListener listener;
    /** The config generation current when this connection was accepted. */
    private final ConnectionContext context;
    private final SocketChannel client;
    private final long startNanos;
    /** Why the connection ends, set once by whoever decides it first (CAS through {@link #REASON}). */
    private volatile CloseReason reason;
    private static final AtomicReferenceFieldUpdater<TcpConnection, CloseReason> REASON =
            AtomicReferenceFieldUpdater.newUpdater(TcpConnection.class, CloseReason.class, "reason");
    private volatile SocketChannel upstream;
    private volatile Backend backend;
    private volatile boolean piping;
    /** The client: the socket's peer, or the client named in its PROXY header (accept_from). */
    private InetSocketAddress clientAddress;
    /** With accept_from: the real sender (the socket's peer) once a header named the client; else null. */
    private InetSocketAddress peerAddress;
    private String error;
    private Pipe toBackend;
    private Pipe toClient;
    /** Bandwidth limits per direction; TokenBucket.UNLIMITED (free to ask) when off. */
    private TokenBucket upstreamBandwidth = TokenBucket.UNLIMITED;
    private TokenBucket downstreamBandwidth = TokenBucket.UNLIMITED;

    /** The context this connection was admitted with. */
    ConnectionContext context() {
        return context;
    }

    TcpConnection(TcpListener listener, ConnectionContext context, SocketChannel client) {
        this.listener = listener;
        this.context = context;
        this.client = client;
        this.startNanos = System.nanoTime();
    }

    @Override
    public void run() {
        try {
            clientAddress = (InetSocketAddress) client.getRemoteAddress();
            serve();
        } catch (IOException e) {
            REASON.compareAndSet(this, null, CloseReason.CLIENT_RESET);
        } catch (RuntimeException | Error e) {
            crashed(e);
        } finally {
            if (!piping) { // once the pipes run, the last of them to end finishes (pipeExited)
                finish();
            }
        }
    }

    /** Releases everything, once: both sockets, the backend slot, the counters, the live-set entry. */
    private void finish() {
        closeQuietly(client);
        closeQuietly(upstream);
        if (everParked) {
            Parking.shared().wakeup(); // a key cancelled but not yet flushed defers the close until it is
        }
        Backend b = backend;
        if (b != null) {
            b.release();
            context.queue().slotFreed(pool); // the oldest waiter for this pool, if any, takes the slot
        }
        listener.closed(this);
    }

    private void serve() throws IOException {
        TcpSettings settings = context.settings();
        // before admission and balancing: from here on the header's client is the client
        if (settings.acceptFrom().contains(clientAddress.getAddress()) && !readProxyHeader(settings)) {
            reject(RejectReason.BAD_PROXY_HEADER);
            return;
        }
        RejectReason rejected = context.admission().apply(clientAddress.getAddress());
        if (rejected != null) {
            reject(rejected);
            return;
        }
        BackendPool pool = context.pool();
        TlsRouting tls = context.tlsRouting();
        if (tls.enabled()) { // without tls_routes nothing is read before the backend is chosen
            pool = route(tls);
            if (pool.current().backends().isEmpty()) {
                reject(RejectReason.NO_ROUTE);
                return;
            }
        }
        if (!connect(settings, pool)) {
            return;
        }
        if (backend.isEvicted()) { // removed under backend_removal: close while this connect was under way
            abort(CloseReason.BACKEND_REMOVED, true);
            return;
        }
        // proxy_protocol.send: the header goes before any byte of the client, in the same write as
        // the first ones: the peeked bytes here, else the pipe's first read (Pipe#prefix)
        ByteBuffer header = proxyHeader(settings);
        if (peekedLength > 0) {
            if (!sendPeeked(header)) {
                return;
            }
            header = null;
        }
        upstreamBandwidth = context.bandwidthBuckets().get();
        downstreamBandwidth = context.bandwidthBuckets().get();
        long parkAfter = Readiness.AVAILABLE ? listener.parkAfterNanos() : 0;
        if (parkAfter > 0) {
            // parking on: the pipes wait for readiness themselves (see Pipe#copyOrPark)
            client.configureBlocking(false);
            upstream.configureBlocking(false);
            nonBlocking = true; // published to the sweeper and closers by the volatile piping below
        }
        toBackend = new Pipe(this, client, upstream, true, parkAfter > 0);
        toBackend.prefix(header);
        toClient = new Pipe(this, upstream, client, false, parkAfter > 0);
        Pipe.pair(toBackend, toClient);
        parkLock = new ReentrantLock();
        piping = true; // publishes both pipes to the sweeper; from here on the last pipe out finishes
        startPipe(toClient);
        listener.pipeStarted();
        toBackend.run(); // on this thread: one thread start less per connection
    }

    // ---- idle parking (see Parking and Pipe) ----

    /** Guards the pipes' states (Pipe#state, Pipe#key) and {@link #parked}; never held across I/O. */
    private ReentrantLock parkLock;
    /** Both directions (or the one not ended) are parked: no thread serves this connection now. */
    private volatile boolean parked;
    /** Parking on: the channels are non-blocking and the pipes wait themselves ({@link Readiness}). */
    private boolean nonBlocking;
    /** Parking on: a closer asked the pipes to end; the last one closes the sockets ({@link #closeLater}). */
    private volatile boolean closing;
    /** Parked at least once: its channels may still have keys the selector has not flushed. */
    private volatile boolean everParked;
    /** Set by the sweeper ({@link #requestPark}), cleared when the connection parked or moved bytes. */
    private volatile boolean parkRequested;
    /**
     * How long the first direction to offer to park waits for the second (which the sweeper
     * unparked at the same moment): a bound for a scheduler under load, not a delay anyone pays normally.
     */
    private static final long JOIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** Starts a pipe on a new virtual thread; a failure to start ends it (and closes the connection). */
    private void startPipe(Pipe p) {
        listener.pipeStarted();
        try {
            listener.threads().newThread(p).start();
        } catch (RuntimeException | Error e) {
            crashed(e);
            pipeExited(p, false);
        }
    }

    /**
     * The sweeper saw both directions idle for the parking threshold: asks both pipes to park.
     * Each is unparked from its wait for data, finds nothing to read and offers to park
     * ({@link #idle}).
     */
    void requestPark() {
        if (parkRequested || parked) {
            return;
        }
        parkRequested = true;
        unpark(toBackend);
        unpark(toClient);
    }

    boolean parkRequested() {
        return parkRequested;
    }

    private static void unpark(Pipe p) {
        Thread t = p.thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** A pipe moved bytes while the connection was asked to park: it stays awake. */
    void stayAwake() {
        parkLock.lock();
        try {
            parkRequested = false;
            for (Pipe p : new Pipe[] {toBackend, toClient}) {
                if (p.state == Pipe.WAITING) {
                    p.state = Pipe.RUNNING;
                    unpark(p);
                }
            }
        } finally {
            parkLock.unlock();
        }
    }

    /**
     * A pipe, asked to park, found nothing to read. Parks the connection when the other direction
     * is waiting to park too (WAITING) or has ended (a half-closed connection parks its live
     * direction alone); otherwise waits, briefly, for the other one, which was woken at the same
     * time. A connection that is closing never parks: its pipes are about to see the close.
     *
     * @return true when this pipe's thread should end (the connection is parked)
     */
    boolean idle(Pipe p) {
        Pipe q = p.other();
        parkLock.lock();
        try {
            if (reason != null || !parkRequested || p.state != Pipe.RUNNING) {
                return false;
            }
            int theirs = q.state;
            if (theirs == Pipe.ENDED || theirs == Pipe.WAITING) {
                boolean done = park(p, theirs == Pipe.WAITING ? q : null);
                parkRequested = false;
                return done;
            }
            p.state = Pipe.WAITING;
            // Waits for the other pipe to change p's state (it unparks p's thread then). Not a
            // Condition: its object, and the node an await leaves behind as the lock's head, stayed
            // with every parked connection (56 bytes each in the class histogram).
            long deadline = System.nanoTime() + JOIN_WAIT_NANOS;
            for (long left = JOIN_WAIT_NANOS; p.state == Pipe.WAITING && left > 0; left = deadline - System.nanoTime()) {
                parkLock.unlock();
                try {
                    LockSupport.parkNanos(this, left);
                } finally {
                    parkLock.lock();
                }
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
            }
            if (p.state == Pipe.PARKED) {
                return true;
            }
            p.state = Pipe.RUNNING;
            parkRequested = false; // the sweeper asks again if both stay idle
            return false;
        } finally {
            parkLock.unlock();
        }
    }

    /** Under parkLock: registers p's (and q's, unless null) channel; false (nothing changed) on failure. */
    private boolean park(Pipe p, Pipe q) {
        Parking parking = Parking.shared();
        try {
            p.key = parking.register(p.from, this);
            if (q != null) {
                q.key = parking.register(q.from, this);
            }
        } catch (IOException | RuntimeException e) {
            // closed meanwhile, or a previous key not flushed yet: stay awake, try again next round
            unregister(p);
            if (q != null) {
                unregister(q);
                q.state = Pipe.RUNNING;
                unpark(q);
            }
            parking.wakeup();
            return false;
        }
        p.state = Pipe.PARKED;
        if (q != null) {
            q.state = Pipe.PARKED;
            unpark(q);
        }
        parked = true;
        everParked = true;
        listener.parkedChanged(1);
        parking.wakeup();
        return true;
    }

    /** Under parkLock: cancels p's key, if any (the channel stays non-blocking: the pipes wait themselves). */
    private static void unregister(Pipe p) {
        SelectionKey k = p.key;
        p.key = null;
        if (k != null) {
            k.cancel();
        }
    }

    /**
     * Resumes a parked connection: its channels leave the selector and the parked pipes get new
     * threads. Called by the parking selector (readiness on {@code key}'s channel) and by whoever
     * closes or expires the connection (a parked connection has no thread to notice a close, so
     * the pipes are started to see it and end as they always do). A no-op when not parked; a
     * WAITING pipe is let go back to its read (which then sees the close).
     *
     * @param key the selector's key that became ready; null when not called by the selector
     */
    void wake(SelectionKey key) {
        if (!piping) {
            return;
        }
        Pipe a = toBackend;
        Pipe b = toClient;
        boolean startA;
        boolean startB;
        parkLock.lock();
        try {
            if (!parked) {
                if (key != null) {
                    key.cancel(); // stale: left from a park that was undone
                }
                unpark(a); // a pipe waiting for readiness does not notice a close by itself
                unpark(b);
                if (a.state == Pipe.WAITING || b.state == Pipe.WAITING) {
                    if (a.state == Pipe.WAITING) {
                        a.state = Pipe.RUNNING;
                    }
                    if (b.state == Pipe.WAITING) {
                        b.state = Pipe.RUNNING;
                    } // both were unparked above
                }
                return;
            }
            parked = false;
            listener.parkedChanged(-1);
            startA = a.state == Pipe.PARKED;
            startB = b.state == Pipe.PARKED;
            if (startA) {
                unregister(a);
                a.state = Pipe.RUNNING;
            }
            if (startB) {
                unregister(b);
                b.state = Pipe.RUNNING;
            }
        } finally {
            parkLock.unlock();
        }
        Parking parking = Parking.shared();
        if (!parking.onSelectorThread()) {
            parking.wakeup(); // flush the cancelled keys (and finish the close of closed channels)
        }
        if (startA) {
            startPipe(a);
        }
        if (startB) {
            startPipe(b);
        }
    }

    /**
     * A pipe's thread ends. Parked: nothing else happens. Otherwise the pipe has ended for good;
     * when the other one has too, this thread finishes the connection.
     */
    void pipeExited(Pipe p, boolean parkedExit) {
        listener.pipeEnded();
        if (parkedExit) {
            return;
        }
        boolean last;
        parkLock.lock();
        try {
            p.state = Pipe.ENDED;
            Pipe q = p.other();
            if (q.state == Pipe.WAITING) {
                q.state = Pipe.RUNNING;
                unpark(q);
            }
            last = q.state == Pipe.ENDED;
        } finally {
            parkLock.unlock();
        }
        if (last) {
            finish();
        }
    }

    /** True while the connection is parked (tests). */
    boolean parked() {
        parkLock.lock();
        try {
            return parked;
        } finally {
            parkLock.unlock();
        }
    }

    /**
     * {@code accept_from} (SPEC §10): the connection must start with a v1 or v2 header, complete
     * within {@code timeout.connect}, read across as many segments as it takes. The header's client
     * becomes {@link #clientAddress} (a LOCAL header keeps the sender); the bytes read after it are
     * the client's first data and wait in {@link #peeked} to go first to the backend, unchanged.
     *
     * @return false when the header is missing, malformed, truncated or late ({@link #error} says which)
     */
    private boolean readProxyHeader(TcpSettings settings) throws IOException {
        Socket socket = client.socket();
        InputStream in = socket.getInputStream(); // not closed: that would close the client
        long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
        byte[] buf = new byte[HEADER_BUFFER];
        int length = 0;
        ParseResult result = null;
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    error = "proxy header timeout";
                    return false;
                }
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                int n = in.read(buf, length, buf.length - length);
                if (n < 0) {
                    error = length == 0 ? "no proxy header" : "truncated proxy header";
                    return false;
                }
                length += n;
                result = ProxyHeaderParser.parse(buf, 0, length);
                if (result instanceof ParseResult.NeedMore(int atLeast)) {
                    if (length + atLeast > buf.length) { // a v2 header with TLVs: at most 64 KiB
                        buf = Arrays.copyOf(buf, Math.max(length + atLeast, buf.length * 2));
                    }
                    continue;
                }
                break;
            }
        } catch (SocketTimeoutException e) {
            error = "proxy header timeout";
            return false;
        } finally {
            socket.setSoTimeout(0);
        }
        switch (result) {
            case ParseResult.Parsed(ProxyHeader header) -> {
                peerAddress = clientAddress;
                clientAddress = header.clientOr(peerAddress);
                int rest = length - header.length();
                if (rest > 0) {
                    peeked = Arrays.copyOfRange(buf, header.length(), Math.max(length, header.length() + INITIAL_PEEK));
                    peekedLength = rest;
                }
                return true;
            }
            case ParseResult.Invalid invalid -> error = "invalid proxy header: " + invalid.label();
            default -> error = "no proxy header";
        }
        return false;
    }

    /**
     * The PROXY header of this connection (SPEC §10), made once for all its backend attempts: the
     * client as the source, and as the destination the address the client connected to (the
     * accepted socket's local address, which for a wildcard listener is the interface it came in on).
     */
    private ByteBuffer proxyHeader(TcpSettings settings) throws IOException {
        return switch (settings.proxyHeader()) {
            case NONE -> null;
            case V1 -> ByteBuffer.wrap(ProxyHeaderEncoder.v1(clientAddress, localAddress()));
            case V2 -> ByteBuffer.wrap(ProxyHeaderEncoder.v2(Transport.TCP, clientAddress, localAddress()));
        };
    }

    private InetSocketAddress localAddress() throws IOException {
        return (InetSocketAddress) client.getLocalAddress();
    }

    /**
     * Tries backends until one accepts ({@link Attempts}): a connect error or timeout counts
     * against that backend and the next eligible one is tried, at most {@code retries} more times.
     * When every eligible backend is full (or others already wait for this pool) and the service
     * has a {@code queue}, the connection waits there for a slot ({@link ConnectionQueue}).
     */
    private boolean connect(TcpSettings settings, BackendPool pool) {
        this.pool = pool;
        this.clientHash = context.clientHasher().applyAsInt(clientAddress.getAddress());
        ConnectionQueue queue = context.queue();
        Attempts.Result result = null;
        // While others wait for a slot of this pool, a newcomer queues behind them instead of
        // taking the slot that was freed for the oldest of them.
        boolean behind = queue.enabled() && queue.waitingFor(pool) && pool.current().capacity() != Capacity.NONE;
        if (!behind) {
            result = Attempts.run(pool.current(), clientHash, settings.retries(), TcpConnection::tryBackend, this);
        }
        if (behind || result == Attempts.Result.NO_BACKEND && queue.enabled()
                && pool.current().capacity() == Capacity.FULL) {
            ConnectionQueue.Waited waited = queue.await(pool, this);
            if (waited.rejected() != null) {
                reject(waited.rejected());
                return false;
            }
            if (waited.result() == null) {
                return false; // closed while waiting: the closer set the reason
            }
            result = waited.result();
        }
        switch (result) {
            case CONNECTED -> {
                return true;
            }
            case NO_BACKEND -> reject(RejectReason.NO_BACKEND);
            case BACKENDS_FAILED -> REASON.compareAndSet(this, null, CloseReason.CONNECT_FAILED);
            case LOCAL_FAILURE -> REASON.compareAndSet(this, null, CloseReason.LOCAL_ERROR);
        }
        return false;
    }

    /** One more try from the queue, with this connection's retries: NO_BACKEND = still no slot. */
    Attempts.Result attemptFromQueue() {
        return Attempts.run(pool.current(), clientHash, listener.context().settings().retries(),
                TcpConnection::tryBackend, this);
    }

    /** Closed while it waited in the queue (shutdown): it stops waiting. */
    boolean abandoned() {
        return reason != null;
    }

    /**
     * Reads the client's first bytes (at most {@link ClientHelloParser#MAX_BYTES}, within
     * {@code client_hello}) until they are a complete ClientHello or clearly not one, and picks
     * the pool: the route of its server name, else the default pool (no SNI, no match, not TLS,
     * invalid, end of stream, or nothing more in time: a server that speaks first). The bytes are
     * kept in {@link #peeked} for the backend.
     */
    private BackendPool route(TlsRouting tls) throws IOException {
        Socket socket = client.socket();
        InputStream in = socket.getInputStream(); // not closed: that would close the client
        long deadline = System.nanoTime() + tls.clientHello().toNanos();
        if (peeked == null) {
            peeked = new byte[INITIAL_PEEK];
        }
        // bytes that came right after a PROXY header are the start of the ClientHello
        ClientHelloResult result = peekedLength > 0
                ? ClientHelloParser.parse(peeked, 0, peekedLength) : ClientHelloResult.NEED_MORE;
        try {
            while (result instanceof ClientHelloResult.NeedMore && peekedLength < ClientHelloParser.MAX_BYTES) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                if (peekedLength == peeked.length) {
                    peeked = Arrays.copyOf(peeked, Math.min(peeked.length * 2, ClientHelloParser.MAX_BYTES));
                }
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                int n = in.read(peeked, peekedLength, peeked.length - peekedLength);
                if (n < 0) {
                    break; // the client half-closed: the chosen backend gets the FIN after the bytes
                }
                peekedLength += n;
                result = ClientHelloParser.parse(peeked, 0, peekedLength);
            }
        } catch (SocketTimeoutException e) {
            // silence: the default pool, with what came (possibly nothing)
        } finally {
            socket.setSoTimeout(0);
        }
        if (result instanceof ClientHelloResult.Sni(String name)) {
            BackendPool pool = tls.poolFor(name);
            if (pool != null) {
                return pool;
            }
        }
        return context.pool();
    }

    /**
     * The first bytes read for routing go to the backend before anything else, unchanged, after
     * the PROXY header when there is one, in one write.
     *
     * @param header the PROXY header, or null for none
     * @return false when the backend failed before taking them (the connection ends)
     */
    private boolean sendPeeked(ByteBuffer header) {
        ByteBuffer bytes = ByteBuffer.wrap(peeked, 0, peekedLength);
        ByteBuffer[] buffers = header == null ? new ByteBuffer[] {bytes} : new ByteBuffer[] {header, bytes};
        try {
            while (bytes.hasRemaining()) {
                upstream.write(buffers); // still blocking here: the pipes switch to non-blocking after this
            }
        } catch (IOException e) {
            error = describe(e);
            REASON.compareAndSet(this, null, CloseReason.BACKEND_RESET);
            return false;
        }
        listener.stats().bytesFromClients.add(peekedLength);
        backend.countBytes(true, peekedLength);
        peeked = null;
        return true;
    }

    /** One connect to a backend whose slot is held, with the connect timeout. */
    private static Attempts.Outcome tryBackend(Backend candidate, TcpConnection c) {
        // a port-less backend is connected on the port this client reached (SPEC §9)
        InetSocketAddress target = candidate.targetFor(c.listener.port());
        SocketChannel ch;
        try {
            ch = SocketChannel.open(TcpListener.familyOf(target));
        } catch (IOException e) {
            // Local trouble (typically no descriptor left): not the backend's fault, and no
            // other backend would fare better.
            c.error = describe(e);
            c.listener.localFailure(e);
            return Attempts.Outcome.LOCAL_FAILURE;
        }
        long t0 = System.nanoTime();
        try {
            c.upstream = connect(ch, target, c.context.settings());
            c.backend = candidate; // volatile write before the eviction check in serve(): see Backend#markEvicted
            c.error = null; // a refusal by an earlier backend is not this connection's error
            c.connectNanos = System.nanoTime() - t0;
            c.context.connectLatency().accept(candidate.id(), c.connectNanos);
            return Attempts.Outcome.CONNECTED;
        } catch (IOException e) {
            c.error = describe(e);
            if (c.listener.context().settings().accessLog()) {
                // tried= of the access line; only on a failure, so the usual connect allocates nothing
                c.tried = c.tried == null ? candidate.id() : c.tried + "," + candidate.id();
            }
            if (log.isDebugEnabled()) {
                log.debug("backend connect failed client={} backend={} error=\"{}\"",
                        format(c.clientAddress), candidate.id(), c.error);
            }
            return Attempts.Outcome.BACKEND_FAILED;
        }
    }

    /**
     * Connects. The PROXY header, when there is one, is not written here but by the client-to-backend
     * pipe, in the same write as the client's first bytes when they are already there (one segment
     * and one wake-up less for the backend per connection, see Pipe#prefix), at once otherwise.
     */
    private static SocketChannel connect(SocketChannel ch, InetSocketAddress address, TcpSettings settings)
            throws IOException {
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            BackendConnect.connect(ch, address, settings.connectTimeout().toNanos());
            return ch;
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private void reject(RejectReason why) {
        listener.stats().countRejected(why);
        rejectReason = why;
    }

    private RejectReason rejectReason;
    /** The pool this connection chose from (after TLS routing): where its freed slot is offered. */
    private BackendPool pool;
    private int clientHash;
    /** How long the connect to the chosen backend took; set once, before the pipes start. */
    private long connectNanos = -1;
    /** The backends whose connect failed before, comma-separated (access log on only); null for none. */
    private String tried;
    private static final int INITIAL_PEEK = 4096;
    /** Room for any v1 line and a v2 header with a few TLVs; a longer v2 header grows it. */
    private static final int HEADER_BUFFER = 512;
    /** With tls_routes: the client's first bytes, read to choose the pool, sent on first. */
    private byte[] peeked;
    private int peekedLength;
    /** The side whose FIN came first: set by the pipe that counted the first EOF in {@link #fins}. */
    private volatile CloseReason firstFin;
    /** Directions that have read their EOF (0, 1, 2), see {@link #finished}. */
    private volatile int fins;
    private static final AtomicIntegerFieldUpdater<TcpConnection> FINS =
            AtomicIntegerFieldUpdater.newUpdater(TcpConnection.class, "fins");
    /**
     * The backend sent a byte. Only the backend-to-client pipe writes it (on whichever thread
     * runs it; a restart after parking happens after the park, under parkLock). The circuit breaker's success is recorded here,
     * not at connect time: a backend that accepts and then hangs (a read timeout) must keep
     * counting as failing, and a connect alone does not prove it works.
     */
    private boolean answered;

    // ---- called by the pipes ----

    void moved(boolean fromClient, int n) {
        backend.countBytes(fromClient, n); // set before the pipes start, never cleared while they run
        if (fromClient) {
            listener.stats().bytesFromClients.add(n);
        } else {
            listener.stats().bytesToClients.add(n);
            if (!answered) {
                answered();
            }
        }
    }

    /** Per-connection bandwidth limit: how long the copying thread must pause after moving {@code n} bytes. */
    long throttleDelay(boolean fromClient, int n) {
        return (fromClient ? upstreamBandwidth : downstreamBandwidth).acquireDelayNanos(n);
    }

    /**
     * A pipe read EOF. Which side finished first names a normal close, but only if nothing else
     * happens: a read timeout after the client's half-close (a hung backend) must still be
     * recorded as such, so a FIN does not claim the reason.
     *
     * @return true when the other direction had read its EOF already: both are done, and the
     *     connection closes both sockets as soon as this pipe returns
     */
    boolean finished(boolean fromClient) {
        int fin = FINS.incrementAndGet(this);
        if (fin == 1) {
            firstFin = fromClient ? CloseReason.CLIENT_CLOSED : CloseReason.BACKEND_CLOSED;
        }
        // max_lifetime ended both reads: each side gets its own FIN now, before the close, which
        // would reset a side whose unread bytes are still in our receive buffer
        return fin == 2 && reason != CloseReason.MAX_LIFETIME;
    }

    /** The backend sent its first byte: it is answering, which is what resets its failure count. */
    private void answered() {
        answered = true;
        Backend b = backend;
        if (b != null) {
            b.recordSuccess();
        }
    }

    /** A read or write failed on a live socket: a reset (or a broken pipe) is passed on as a reset. */
    void ioFailed(boolean fromClient, IOException e) {
        boolean writeSide = e instanceof Pipe.WriteFailed;
        boolean clientFault = fromClient != writeSide;
        error = describe(e.getCause() != null && writeSide ? (IOException) e.getCause() : e);
        abort(clientFault ? CloseReason.CLIENT_RESET : CloseReason.BACKEND_RESET, true);
    }

    void crashed(Throwable e) {
        log.error("connection failed unexpectedly client={} backend={}", format(clientAddress), backend, e);
        abort(CloseReason.ERROR, true);
    }

    /**
     * The sweeper found the backend silent for {@code timeout.read}: the failure is counted
     * against the backend before the sockets close, so the circuit breaker has seen it by the
     * time the client notices and comes back.
     */
    void readTimedOut() {
        if (REASON.compareAndSet(this, null, CloseReason.READ_TIMEOUT)) {
            Backend b = backend;
            if (b != null) {
                b.recordFailure();
            }
        }
        timedOut(CloseReason.READ_TIMEOUT);
    }

    /**
     * A timeout (idle, read, or the drain timeout of a shutdown) ends the connection. A FIN tells
     * a receiver that the stream is complete, which a timeout cannot know: bytes may still be in
     * flight (unwritten in a pipe, in a shaping pause, or handed to the kernel and not yet taken
     * by a slow receiver, which no Java API lets us see). So each side gets a reset (SO_LINGER 0)
     * unless the direction towards it had already ended normally: its FIN was passed on, its
     * stream is complete, and a plain close lets the kernel deliver what it still holds.
     */
    void timedOut(CloseReason why) {
        REASON.compareAndSet(this, null, why);
        boolean started = piping; // read first: it publishes the pipes
        boolean clientComplete = started && toClient.ended;
        boolean backendComplete = started && toBackend.ended;
        if (started && nonBlocking) {
            if (!clientComplete) {
                lingerZero(client);
            }
            if (!backendComplete) {
                lingerZero(upstream);
            }
            closeLater();
            return;
        }
        if (clientComplete) {
            closeQuietly(client);
        } else {
            resetQuietly(client);
        }
        if (backendComplete) {
            closeQuietly(upstream);
        } else {
            resetQuietly(upstream);
        }
        wake(null); // a parked connection has no thread to see the close: start its pipes to end it
    }

    /**
     * {@code max_lifetime}: the connection is too old. Both reads are shut down (the JDK's
     * {@code shutdownInput}, which wakes a blocked read with end-of-stream), so each pipe finishes
     * the chunk it is writing, reads EOF and passes a FIN on: the two peers see a clean end of
     * stream between two chunks, never a chunk cut in half. Idempotent; only the first call acts.
     */
    void expire() {
        if (REASON.compareAndSet(this, null, CloseReason.MAX_LIFETIME)) {
            shutdownInputQuietly(client);
            shutdownInputQuietly(upstream);
            wake(null); // parked: the restarted pipes read the end of stream and pass the FINs on
        }
    }

    long startNanos() {
        return startNanos;
    }

    /**
     * Ends the connection now: records the reason (the first one wins), then closes both
     * sockets, with a reset when {@code reset} (SO_LINGER 0), which unblocks both pipes.
     */
    void abort(CloseReason why, boolean reset) {
        REASON.compareAndSet(this, null, why);
        if (piping && nonBlocking) {
            if (reset) {
                lingerZero(client);
                lingerZero(upstream);
            }
            closeLater();
            return;
        }
        if (reset) {
            resetQuietly(client);
            resetQuietly(upstream);
        } else {
            closeQuietly(client);
            closeQuietly(upstream);
        }
        wake(null);
    }

    // ---- read by the sweeper ----

    boolean piping() {
        return piping;
    }

    /** The client-to-backend pipe; only once {@link #piping()} is true. */
    Pipe toBackend() {
        return toBackend;
    }

    /** The backend-to-client pipe; only once {@link #piping()} is true. */
    Pipe toClient() {
        return toClient;
    }

    Backend backend() {
        return backend;
    }

    /** Final accounting, once both pipes ended (on the thread of the last one), or without pipes. */
    void logAccess(TcpStats stats) {
        long bytesReceived = peekedLength + (toBackend == null ? 0 : toBackend.bytes());
        long bytesSent = toClient == null ? 0 : toClient.bytes();
        String why;
        if (rejectReason != null) {
            why = rejectReason.label();
        } else {
            CloseReason r = reason;
            if (r == null) {
                r = firstFin != null ? firstFin : CloseReason.CLIENT_CLOSED;
            }
            stats.countClosed(r);
            // A connection the backend never answered proves nothing either way (the client may
            // have sent nothing and left): no verdict, so a hung backend's failure count is not
            // reset. If it was a half-open circuit's trial, the circuit gives the next connection
            // the trial once the verdict wait (CircuitBreaker) has passed.
            why = r.label();
        }
        TcpSettings current = listener.context().settings();
        if (current.accessLog()) { // the current generation's flag, as for timeouts
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            Backend b = backend;
            listener.accessLines().accept(accessLine(current.service(), clientAddress, peerAddress, b == null ? "-" : b.id(),
                    tried, b == null ? -1 : connectNanos, bytesSent, bytesReceived, ms, why, error));
        }
    }

    /**
     * The access line in the SPEC's logfmt, with nginx's meaning of the byte counters:
     * {@code bytes_sent} went to the client, {@code bytes_received} came from it.
     *
     * @param error what went wrong, quoted at the end; null for none
     */
    static String accessLine(String service, InetSocketAddress client, String backend, long bytesSent,
            long bytesReceived, long durationMillis, String reason, String error) {
        return accessLine(service, client, null, backend, bytesSent, bytesReceived, durationMillis, reason, error);
    }

    /**
     * @param peer the real sender when a PROXY header named the client ({@code peer=} after
     *             {@code client_ip=}); null for none
     */
    static String accessLine(String service, InetSocketAddress client, InetSocketAddress peer, String backend,
            long bytesSent, long bytesReceived, long durationMillis, String reason, String error) {
        return accessLine(service, client, peer, backend, null, -1, bytesSent, bytesReceived, durationMillis, reason,
                error);
    }

    /**
     * @param tried        the backends whose connect failed before {@code backend} answered (or before
     *                     the connection gave up), comma-separated: {@code tried=}; null for none
     * @param connectNanos how long the connect to {@code backend} took: {@code connect_ms=} with three
     *                     decimals (microseconds: a loopback connect takes well under a millisecond);
     *                     negative when no backend was connected
     */
    static String accessLine(String service, InetSocketAddress client, InetSocketAddress peer, String backend,
            String tried, long connectNanos, long bytesSent, long bytesReceived, long durationMillis, String reason,
            String error) {
        StringBuilder line = new StringBuilder(192)
                .append("access protocol=tcp service=").append(service)
                .append(" client_ip=").append(format(client));
        if (peer != null) {
            line.append(" peer=").append(format(peer));
        }
        line.append(" backend=").append(backend);
        if (tried != null) {
            line.append(" tried=").append(tried);
        }
        line.append(" bytes_sent=").append(bytesSent)
                .append(" bytes_received=").append(bytesReceived)
                .append(" duration_ms=").append(durationMillis);
        if (connectNanos >= 0) {
            long micros = connectNanos / 1000;
            long fraction = micros % 1000;
            line.append(" connect_ms=").append(micros / 1000).append('.')
                    .append((char) ('0' + fraction / 100)).append((char) ('0' + fraction / 10 % 10))
                    .append((char) ('0' + fraction % 10));
        }
        line.append(" reason=").append(reason);
        if (error != null) {
            line.append(" error=\"").append(error).append('"');
        }
        return line.toString();
    }

    static String format(InetSocketAddress a) {
        return HostPort.format(a);
    }

    private static String describe(IOException e) {
        if (e instanceof SocketTimeoutException) {
            return "connect timeout";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.replace('"', '\'');
    }

    static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }

    private static void shutdownInputQuietly(SocketChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.shutdownInput();
        } catch (IOException | RuntimeException ignored) {
            // closed or never connected: its pipe ends anyway
        }
    }

    /**
     * Parking on: the sockets are closed by the last pipe to end ({@link #finish}), not here. A pipe
     * waits for readiness itself, registered with the JDK's poller, and a close under it would
     * leave that registration behind for whatever socket gets the descriptor number next; so the
     * pipes are woken, see {@link #closing} and end, and the close (a reset where SO_LINGER was set
     * to 0 here) follows.
     */
    private void closeLater() {
        closing = true;
        wake(null);
    }

    /** The listener's buffer pools, for the pipes. */
    BufferPool smallBuffers() {
        return listener.smallBuffers();
    }

    BufferPool largeBuffers() {
        return listener.largeBuffers();
    }

    boolean closing() {
        return closing;
    }

    private static void lingerZero(SocketChannel ch) {
        try {
            if (ch != null && ch.isOpen()) {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException ignored) {
            // closed already
        }
    }

    private static void resetQuietly(SocketChannel ch) {
        if (ch == null) {
            return;
        }
        try {
            if (ch.isOpen()) {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException ignored) {
            // already closed or not connected: a plain close follows
        }
        closeQuietly(ch);
    }
}
