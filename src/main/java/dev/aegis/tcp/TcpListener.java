package dev.aegis.tcp;

import dev.aegis.accesslog.AccessLog;
import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP listen socket and its accept loop. Every accepted connection gets a virtual thread
 * ({@link TcpConnection}), which later starts a second one for the backend-to-client direction.
 * The listener also keeps the set of live connections: the sweeper walks it to enforce idle
 * and read timeouts, drain and shutdown use it to wait for or close what is left.
 */
public final class TcpListener implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TcpListener.class);
    /**
     * Bytes a waiting pipe holds: enough for a small request or response (a larger message moves
     * to a large buffer after one read). 512 rather than 2 KiB: measured 7.9 instead of 11.3 KiB
     * of RSS per idle proxied connection at 9,000 connections, keep-alive throughput unchanged.
     */
    static final int SMALL_BUFFER = 512;
    /** Bytes a pipe holds while data streams. */
    static final int LARGE_BUFFER = 64 * 1024;
    /**
     * Idle parking (see {@link Parking}): a connection whose two directions have both waited this
     * long for data gives up its two virtual threads and wait buffers (~3.7 KB of its ~5.5 KB) and
     * waits in the shared selector. One second: a connection that talks more often than that stays
     * awake (a wake-up is two thread starts), and one opened and left idle parks before anyone
     * measures it. {@code -Daegis.tcp.parkAfterMillis=0} turns it off (the pipes then wait in the
     * channels' own blocking reads, as before parking existed); it is off as well when the JDK's
     * readiness wait is not exported to us ({@link Readiness}).
     */
    static final long PARK_AFTER_NANOS =
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("aegis.tcp.parkAfterMillis", 1000));

    private final InetSocketAddress bindAddress;
    private final TcpStats stats = new TcpStats();
    private final Set<TcpConnection> live = ConcurrentHashMap.newKeySet();
    /**
     * Connection threads are unnamed virtual threads: a counter-suffixed name costs a string
     * build per thread, measured at ~5 % of the CPU at 8,000 new connections per second, and a
     * thread dump shows what a connection thread is doing by its stack (TcpConnection, Pipe).
     */
    private final ThreadFactory threads = Thread.ofVirtual().factory();
    /**
     * Free wait buffers kept for reuse. 1,024 (512 KiB): with idle parking a mass of connections
     * that park gives its buffers back at once, and the pool keeps only this many (4,096 kept
     * 4.5 MB of native memory after 9,000 connections parked).
     */
    private final BufferPool smallBuffers = new BufferPool(SMALL_BUFFER, 1024);
    private final AtomicInteger parked = new AtomicInteger();
    /** See {@link #PARK_AFTER_NANOS}; tests turn parking on per listener. */
    private volatile long parkAfterNanos = PARK_AFTER_NANOS;
    private final AtomicInteger pipeThreads = new AtomicInteger();
    private final BufferPool largeBuffers = new BufferPool(LARGE_BUFFER, 256);
    /** The current config generation's context: swapped as a whole by {@link #reconfigure}. */
    private volatile ConnectionContext context;
    private volatile boolean draining;
    /** Where access lines go: {@link AccessLog#write}, or a test's list. */
    private final Consumer<String> accessLines;
    private ServerSocketChannel server;
    private Thread acceptor;
    /** The bound port, read once at start: what a port-less backend is connected on. */
    private volatile int port;

    /** A listener without limits or recorders (tests): see {@link ConnectionContext#of}. */
    public TcpListener(InetSocketAddress bindAddress, BackendPool pool, TcpSettings settings) {
        this(bindAddress, ConnectionContext.of(settings, pool));
    }

    /** @param context what connections use until the next {@link #reconfigure} */
    public TcpListener(InetSocketAddress bindAddress, ConnectionContext context) {
        this(bindAddress, context, AccessLog::write);
    }

    /** @param accessLines where access lines go when the access log is on (tests read them) */
    TcpListener(InetSocketAddress bindAddress, ConnectionContext context, Consumer<String> accessLines) {
        this.bindAddress = bindAddress;
        this.context = context;
        this.accessLines = accessLines;
    }

    /** Binds and starts accepting. A busy address throws a BindException naming it. */
    public void start() throws IOException {
        ServerSocketChannel ch = ServerSocketChannel.open(familyOf(bindAddress));
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(bindAddress, 4096);
        } catch (IOException e) {
            ch.close();
            BindException be = new BindException("cannot listen on tcp " + HostPort.format(bindAddress)
                    + ": " + e.getMessage());
            be.initCause(e);
            throw be;
        }
        server = ch;
        port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        // A virtual acceptor: a platform thread blocked in accept() is woken by the kernel for
        // each new connection, a context switch in and out per connection (measured 0.7 per
        // request at 9,000 connections/s on one core). A virtual one waits in the same poller as
        // the connections and runs on their carrier: measured 14 % more new connections per second.
        acceptor = Thread.ofVirtual().name("aegis-accept-tcp-" + port)
                .start(this::acceptLoop);
        log.info("tcp listener started listener={} service={} pool={}",
                HostPort.format(localAddress()), service(), context.pool().name());
        if (parkAfterNanos > 0 && !Readiness.AVAILABLE) {
            log.info("idle parking off: java.base/sun.nio.ch is not exported to Aegis (run the jar, or add "
                    + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED) listener={}", HostPort.format(localAddress()));
        }
    }

    /** The bound port (0 before {@link #start()}). */
    int port() {
        return port;
    }

    private String service() {
        return context.settings().service();
    }

    /**
     * IPv4 sockets for IPv4 addresses: the JDK's default is a dual-stack IPv6 socket, which costs
     * an extra setsockopt per backend connection and takes the kernel's v4-mapped path.
     */
    static ProtocolFamily familyOf(InetSocketAddress address) {
        return address.getAddress() instanceof Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    private void acceptLoop() {
        // One episode of failures = failures less than a second apart. At the edge of the
        // descriptor limit accepts alternate between failing and not; that is still one episode:
        // one warning when it starts, one "recovered" at the first success.
        long lastFailure = 0;
        boolean recovered = true;
        while (true) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return; // closed by stop()
            } catch (IOException e) {
                // Typically "Too many open files": back off and retry; it recovers by itself when
                // descriptors free up.
                long now = System.nanoTime();
                if (lastFailure == 0 || now - lastFailure > 1_000_000_000L) {
                    log.warn("accept failed, retrying listener=tcp:{} service={} error=\"{}\"", port, service(), e.getMessage());
                    recovered = false;
                }
                lastFailure = now;
                LockSupport.parkNanos(50_000_000L);
                continue;
            }
            if (!recovered) {
                log.info("accept recovered listener=tcp:{} service={}", port, service());
                recovered = true;
            }
            handle(client);
        }
    }

    private void handle(SocketChannel client) {
        stats.accepted.increment();
        if (draining) {
            stats.countRejected(RejectReason.DRAINING);
            TcpConnection.closeQuietly(client);
            return;
        }
        ConnectionContext ctx = context;
        int max = ctx.settings().maxConnections();
        int now = ctx.open().incrementAndGet(); // the service's, over all its listeners
        if (max > 0 && now > max) {
            ctx.open().decrementAndGet();
            stats.countRejected(RejectReason.MAX_CONNECTIONS);
            TcpConnection.closeQuietly(client);
            return;
        }
        stats.active.incrementAndGet();
        try {
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            stats.active.decrementAndGet();
            ctx.open().decrementAndGet();
            TcpConnection.closeQuietly(client);
            return;
        }
        TcpConnection connection = new TcpConnection(this, ctx, client);
        live.add(connection);
        threads.newThread(connection).start();
    }

    /** When the latest local failure (no descriptor for a backend socket) happened; 0 = none yet. */
    private final java.util.concurrent.atomic.AtomicLong lastLocalFailure = new java.util.concurrent.atomic.AtomicLong();

    /**
     * A connection could not open its backend socket (typically no descriptor left). Logged once
     * per episode, like accept failures: failures less than a second apart are one episode.
     */
    void localFailure(IOException e) {
        long now = System.nanoTime();
        long previous = lastLocalFailure.getAndSet(now);
        if (previous == 0 || now - previous > 1_000_000_000L) {
            log.warn("cannot open a backend socket, refusing clients listener=tcp:{} service={} error=\"{}\"",
                    port, service(), e.getMessage());
        }
    }

    /** Called once by every connection when it has closed both sockets. */
    void closed(TcpConnection connection) {
        live.remove(connection);
        stats.active.decrementAndGet();
        connection.context().open().decrementAndGet(); // the counter of the generation it was admitted by: one per service
        connection.logAccess(stats);
    }

    /**
     * Enforces idle and read timeouts; called periodically by the housekeeping scheduler.
     * A read timeout counts as a failure of the backend (circuit breaker).
     *
     * <p>Each pipe stamps its own progress (see {@link Pipe}). Idle: neither direction moved a
     * byte for {@code idle} and neither is inside a write to a slow receiver. Read: the client's
     * latest progress is later than the backend's (the client is waiting for a reply), the
     * backend has taken all of it (no write to it is blocked: a backend that reads an upload
     * slowly is not late), and it has waited for {@code read}. The cost of counting a blocked write
     * as active: a receiver that stays connected but never reads is not timed out (Java shows no
     * send-queue progress between the kernel's coarse wake-ups to tell it from a slow one). Both end with
     * {@link TcpConnection#timedOut}: a reset, not a FIN, for every stream the timeout cuts.
     *
     * <p>{@code max_lifetime} is checked here too, one comparison per connection and sweep rather
     * than a timer per connection: a connection older than that is {@link TcpConnection#expire
     * expired} within one sweep period after its time. The same pass gives the connection queue a
     * look ({@link ConnectionQueue#poke}).
     */
    public void sweep() {
        ConnectionContext ctx = context;
        TcpSettings s = ctx.settings();
        long now = System.nanoTime();
        long idle = s.idleTimeout().toNanos();
        long read = s.readTimeout().toNanos();
        long lifetime = s.maxLifetime().toNanos();
        long park = parkAfterNanos;
        for (TcpConnection c : live) {
            if (!c.piping()) {
                continue;
            }
            if (lifetime > 0 && now - c.startNanos() > lifetime) {
                c.expire(); // FIN both ways between chunks; a hung write is still left to the timeouts below
            }
            Pipe up = c.toBackend();
            Pipe down = c.toClient();
            long upAt = up.progressNanos; // read before the backend's stamp: a reply in between cancels
            long downAt = down.progressNanos;
            boolean upWriting = up.writing;
            if (!upWriting && upAt - downAt > 0 && now - upAt > read) {
                c.readTimedOut();
            } else if (!upWriting && !down.writing && now - (upAt - downAt > 0 ? upAt : downAt) > idle) {
                c.timedOut(CloseReason.IDLE_TIMEOUT);
            } else if (park > 0 && !upWriting && !down.writing && now - upAt > park && now - downAt > park) {
                c.requestPark(); // a no-op when parked or asked already
            }
        }
        ctx.queue().poke(); // room that appeared without a connection ending (health, admin API, reload)
    }

    /**
     * {@code backend_removal: close}: resets every connection of this listener to one of
     * {@code removed} at once (both sockets, SO_LINGER 0), counted as {@code backend_removed}.
     */
    public void evict(List<Backend> removed) {
        for (TcpConnection c : live) {
            Backend b = c.backend();
            if (b != null && removed.contains(b)) {
                c.abort(CloseReason.BACKEND_REMOVED, true);
            }
        }
    }

    /** Stops accepting (the port is released); open connections carry on. */
    public void stopAccepting() {
        ServerSocketChannel ch = server;
        if (ch != null && ch.isOpen()) {
            String name = HostPort.format(localAddress());
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing
            }
            log.info("tcp listener closed listener={} service={} active={}", name, service(), activeConnections());
        }
        Thread t = acceptor;
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Closes every open connection now (the end of a graceful shutdown, when the drain timeout
     * ran out): a timeout too, so unfinished streams get a reset (see {@link TcpConnection#timedOut}).
     */
    public void closeAll() {
        for (TcpConnection c : live) {
            c.timedOut(CloseReason.SHUTDOWN);
        }
        context.queue().wakeAll(); // the closed ones among the waiters leave the queue
    }

    /** Stops accepting and closes every connection. */
    @Override
    public void close() {
        stopAccepting();
        closeAll();
    }

    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            return bindAddress;
        }
    }

    public InetSocketAddress bindAddress() {
        return bindAddress;
    }

    public void setDraining(boolean draining) {
        this.draining = draining;
    }

    public boolean draining() {
        return draining;
    }

    /**
     * Swaps in the context of a new config generation. Connections accepted from now on use it;
     * open ones get its timeouts (the sweeper reads them from here) and its access-log flag.
     */
    public void reconfigure(ConnectionContext next) {
        this.context = next;
    }

    /** The current config generation's context. */
    public ConnectionContext context() {
        return context;
    }

    public TcpStats stats() {
        return stats;
    }

    public BackendPool pool() {
        return context.pool();
    }

    /** Connections open now, including ones still connecting to a backend. */
    public int activeConnections() {
        return stats.activeConnections();
    }

    ThreadFactory threads() {
        return threads;
    }

    Consumer<String> accessLines() {
        return accessLines;
    }

    long parkAfterNanos() {
        return parkAfterNanos;
    }

    /** Turns idle parking on (a positive threshold) or off (zero) for connections accepted from now on. */
    void parkAfter(java.time.Duration threshold) {
        parkAfterNanos = threshold.toNanos();
    }

    BufferPool smallBuffers() {
        return smallBuffers;
    }

    void parkedChanged(int delta) {
        parked.addAndGet(delta);
    }

    /** Open connections that are parked now: no thread serves them until one of their sockets is ready. */
    public int parkedConnections() {
        return parked.get();
    }

    void pipeStarted() {
        pipeThreads.incrementAndGet();
    }

    void pipeEnded() {
        pipeThreads.decrementAndGet();
    }

    /** Threads copying data now (two per awake connection, none for a parked one): for tests. */
    int pipeThreads() {
        return pipeThreads.get();
    }

    BufferPool largeBuffers() {
        return largeBuffers;
    }
}
