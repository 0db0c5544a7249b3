package dev.aegis;

import dev.aegis.control.ProxyStatus;
import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.AegisConfig;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.ProxyConfig;
import dev.aegis.health.HealthChecker;
import dev.aegis.tcp.CloseReason;
import dev.aegis.tcp.ConnectionContext;
import dev.aegis.tcp.RejectReason;
import dev.aegis.tcp.TcpListener;
import dev.aegis.tcp.TcpSettings;
import dev.aegis.tcp.TcpStats;
import dev.aegis.traffic.RateLimiter;
import dev.aegis.udp.UdpListener;
import dev.aegis.udp.UdpSettings;
import dev.aegis.udp.UdpStats;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;

/**
 * One service: the listeners of a {@code proxy:} block, its backend pools and its policies
 * (rate limits, timeouts). Aegis runs one today; nothing here assumes it is the only one.
 *
 * <p>The TCP pool is {@code backends}; the UDP pool is {@code udp_backends}, or a second pool
 * over {@code backends} when that is absent (so UDP sessions and TCP connections are counted,
 * limited and health-checked per protocol).
 *
 * <p>Not thread-safe by itself: {@link Aegis} serialises every lifecycle call.
 */
public final class Service {

    private final String name;
    private final HealthChecker health;
    private final BackendPool tcpPool;
    // volatile: written under Aegis's lifecycle lock, read by the admin API and metrics threads
    private volatile BackendPool udpPool;
    private volatile TcpListener tcpListener;
    private volatile UdpListener udpListener;
    private final LongConsumer connectLatency;
    private volatile RateLimiter rateLimiter;
    private volatile boolean draining;
    /** Listeners replaced by a reload: they accept nothing and are closed once their traffic ended. */
    private final List<TcpListener> retiredTcp = new CopyOnWriteArrayList<>();
    private final List<UdpListener> retiredUdp = new CopyOnWriteArrayList<>();
    /** The counters of every TCP listener since start (one per listen address move): the totals never go backwards. */
    private final List<TcpStats> everyTcp = new CopyOnWriteArrayList<>();
    /** Guards {@link #closedUdp} and the removal of closed listeners from {@link #retiredUdp}. */
    private final Object udpTotalsLock = new Object();
    /** The final counters of the UDP listeners closed since start. */
    private UdpStats closedUdp = ZERO_UDP;
    private static final UdpStats ZERO_UDP = new UdpStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /**
     * @param connectLatency receives the time of every successful backend connect, in nanoseconds
     */
    Service(String name, AegisConfig config, HealthChecker health, LongConsumer connectLatency) {
        this.name = name;
        this.health = health;
        this.connectLatency = connectLatency;
        ProxyConfig p = config.proxy();
        this.rateLimiter = new RateLimiter(p.traffic().rateLimit());
        this.tcpPool = new BackendPool("tcp", resolve(p.backends()), p.loadBalancing(), p.circuitBreaker(), Balancers::create);
        if (p.listen().udp().isPresent()) {
            udpPool = new BackendPool("udp", resolve(p.effectiveUdpBackends()), p.loadBalancing(), p.circuitBreaker(), Balancers::create);
        }
    }

    /** Binds the listeners; on failure closes what was bound and throws. */
    void start(AegisConfig config) throws IOException {
        ProxyConfig p = config.proxy();
        try {
            if (p.listen().tcp().isPresent()) {
                tcpListener = bindTcp(p.listen().tcp().get(), config);
                everyTcp.add(tcpListener.stats());
            }
            if (p.listen().udp().isPresent()) {
                udpListener = bindUdp(p.listen().udp().get(), config, udpPool);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
        watchHealth();
    }

    private TcpListener bindTcp(HostPort address, AegisConfig config) throws IOException {
        TcpListener l = new TcpListener(address.resolve(), tcpContext(config));
        l.setDraining(draining);
        l.start();
        return l;
    }

    /**
     * What TCP connections use in this config generation. It reads {@link #rateLimiter} when
     * called, not when built: a reload replaces the limiter after it has bound new listeners.
     */
    private ConnectionContext tcpContext(AegisConfig config) {
        return new ConnectionContext(TcpSettings.from(config), tcpPool,
                client -> rateLimiter.admit(client).admitted() ? null : RejectReason.RATE_LIMITED,
                Balancers::hashClient, () -> rateLimiter.newBandwidthBucket(), connectLatency);
    }

    private UdpListener bindUdp(HostPort address, AegisConfig config, BackendPool pool) throws IOException {
        UdpListener l = new UdpListener(address.resolve(), pool, udpSettings(config));
        l.setDraining(draining);
        l.start();
        return l;
    }

    private UdpSettings udpSettings(AegisConfig config) {
        var t = config.proxy().traffic();
        return new UdpSettings(t.timeout().udpSession(), t.udpMaxSessions(), config.logging().accessLog(),
                client -> rateLimiter.admit(client.getAddress()).admitted(), () -> rateLimiter.newPacketBucket());
    }

    /**
     * Applies a validated config. New listen addresses are bound first: if one cannot be bound,
     * this throws before anything changed (a UDP pool it would have added included). Then pools,
     * limits and timeouts change in place, on the listeners a reload retired too.
     */
    void apply(AegisConfig previous, AegisConfig next) throws IOException {
        ProxyConfig p = next.proxy();
        Optional<HostPort> oldTcp = previous.proxy().listen().tcp();
        Optional<HostPort> oldUdp = previous.proxy().listen().udp();
        boolean tcpMoved = !p.listen().tcp().equals(oldTcp);
        boolean udpMoved = !p.listen().udp().equals(oldUdp);
        BackendPool nextUdpPool = udpPool;
        if (nextUdpPool == null && p.listen().udp().isPresent()) {
            nextUdpPool = new BackendPool("udp", resolve(p.effectiveUdpBackends()), p.loadBalancing(), p.circuitBreaker(), Balancers::create);
        }
        TcpListener newTcp = null;
        UdpListener newUdp = null;
        try {
            if (tcpMoved && p.listen().tcp().isPresent()) {
                newTcp = bindTcp(p.listen().tcp().get(), next);
            }
            if (udpMoved && p.listen().udp().isPresent()) {
                newUdp = bindUdp(p.listen().udp().get(), next, nextUdpPool);
            }
        } catch (IOException e) {
            if (newTcp != null) {
                newTcp.close();
            }
            throw e;
        }
        udpPool = nextUdpPool;
        rateLimiter = rateLimiter.reconfigure(p.traffic().rateLimit());
        tcpPool.reconfigure(resolve(p.backends()), p.loadBalancing(), p.circuitBreaker());
        if (udpPool != null) {
            udpPool.reconfigure(resolve(p.effectiveUdpBackends()), p.loadBalancing(), p.circuitBreaker());
        }
        if (tcpMoved) {
            if (tcpListener != null) {
                tcpListener.stopAccepting(); // open connections carry on to their natural end
                retiredTcp.add(tcpListener);
            }
            tcpListener = newTcp;
            if (newTcp != null) {
                everyTcp.add(newTcp.stats());
            }
        }
        if (udpMoved) {
            if (udpListener != null) {
                udpListener.setDraining(true); // sessions carry on until they expire
                retiredUdp.add(udpListener);
            }
            udpListener = newUdp;
        }
        // Retired listeners too: their open connections and sessions get the new timeouts.
        ConnectionContext tcp = tcpContext(next);
        if (tcpListener != null) {
            tcpListener.reconfigure(tcp);
        }
        for (TcpListener old : retiredTcp) {
            old.reconfigure(tcp);
        }
        UdpSettings udp = udpSettings(next);
        if (udpListener != null) {
            udpListener.reconfigure(udp);
        }
        for (UdpListener old : retiredUdp) {
            old.reconfigure(udp);
        }
        watchHealth();
    }

    private void watchHealth() {
        health.watch(name + "/tcp", false, tcpPool.current().backends());
        if (udpPool != null) {
            health.watch(name + "/udp", true, udpPool.current().backends());
        }
    }

    /** Adds a backend at run time (admin API). @return false when the address is already in the pool */
    boolean addBackend(boolean udp, BackendConfig config) {
        BackendPool pool = udp ? udpPool : tcpPool;
        if (pool == null) {
            return false;
        }
        boolean added = pool.add(new BackendPool.ResolvedBackend(config, config.address().resolve()));
        if (added) {
            watchHealth();
        }
        return added;
    }

    /** Removes a backend at run time; its open connections finish. @return the backend or null */
    Backend removeBackend(boolean udp, String id) {
        BackendPool pool = udp ? udpPool : tcpPool;
        Backend removed = pool == null ? null : pool.remove(id);
        if (removed != null) {
            watchHealth();
        }
        return removed;
    }

    /** Timeouts of TCP connections, the per-client rate table, and retired listeners. Housekeeping thread. */
    void sweep() {
        if (tcpListener != null) {
            tcpListener.sweep();
        }
        for (TcpListener old : retiredTcp) {
            old.sweep();
            if (old.activeConnections() == 0) {
                retiredTcp.remove(old);
            }
        }
        for (UdpListener old : retiredUdp) {
            if (old.sessionCount() == 0) {
                old.close();
                synchronized (udpTotalsLock) {
                    closedUdp = plus(closedUdp, old.stats());
                    retiredUdp.remove(old);
                }
            }
        }
    }

    void sweepRateLimiter() {
        rateLimiter.sweep();
    }

    void setDraining(boolean draining) {
        this.draining = draining;
        if (tcpListener != null) {
            tcpListener.setDraining(draining);
        }
        if (udpListener != null) {
            udpListener.setDraining(draining);
        }
    }

    /** Graceful shutdown, first step: the TCP port is released, UDP takes no new sessions. */
    void stopAccepting() {
        setDraining(true);
        if (tcpListener != null) {
            tcpListener.stopAccepting();
        }
    }

    /** Open TCP connections, on the current and retired listeners. */
    public int activeConnections() {
        int n = tcpListener == null ? 0 : tcpListener.activeConnections();
        for (TcpListener old : retiredTcp) {
            n += old.activeConnections();
        }
        return n;
    }

    /** Live UDP sessions, on the current and retired listeners. */
    public int udpSessions() {
        int n = udpListener == null ? 0 : udpListener.sessionCount();
        for (UdpListener old : retiredUdp) {
            n += old.sessionCount();
        }
        return n;
    }

    /** TCP counters summed over every listener since start. */
    ProxyStatus.TcpTotals tcpTotals() {
        int active = 0;
        long accepted = 0;
        long from = 0;
        long to = 0;
        Map<RejectReason, Long> rejected = new EnumMap<>(RejectReason.class);
        Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
        for (TcpStats s : everyTcp) {
            active += s.activeConnections();
            accepted += s.acceptedConnections();
            from += s.bytesFromClients();
            to += s.bytesToClients();
            for (RejectReason r : RejectReason.values()) {
                rejected.merge(r, s.rejected(r), Long::sum);
            }
            for (CloseReason r : CloseReason.values()) {
                closed.merge(r, s.closed(r), Long::sum);
            }
        }
        return new ProxyStatus.TcpTotals(active, accepted, from, to, rejected, closed);
    }

    /** UDP counters summed over every listener since start (all zero without a UDP listener). */
    UdpStats udpTotals() {
        synchronized (udpTotalsLock) {
            UdpStats sum = closedUdp;
            UdpListener current = udpListener;
            if (current != null && !retiredUdp.contains(current)) {
                sum = plus(sum, current.stats());
            }
            for (UdpListener old : retiredUdp) {
                sum = plus(sum, old.stats());
            }
            return sum;
        }
    }

    private static UdpStats plus(UdpStats a, UdpStats b) {
        return new UdpStats(a.activeSessions() + b.activeSessions(),
                a.sessionsCreated() + b.sessionsCreated(), a.sessionsExpired() + b.sessionsExpired(),
                a.sessionsEnded() + b.sessionsEnded(), a.droppedMaxSessions() + b.droppedMaxSessions(),
                a.droppedNoBackend() + b.droppedNoBackend(), a.droppedRateLimited() + b.droppedRateLimited(),
                a.droppedDraining() + b.droppedDraining(), a.droppedPacketRate() + b.droppedPacketRate(),
                a.droppedLocalError() + b.droppedLocalError(), a.datagramsUnsent() + b.datagramsUnsent(), a.packetsFromClients() + b.packetsFromClients(),
                a.bytesFromClients() + b.bytesFromClients(), a.packetsToClients() + b.packetsToClients(),
                a.bytesToClients() + b.bytesToClients());
    }

    /** A pool's current members and their live numbers. */
    static ProxyStatus.Pool describe(BackendPool pool) {
        List<ProxyStatus.Backend> backends = new ArrayList<>();
        for (Backend b : pool.current().backends()) {
            backends.add(new ProxyStatus.Backend(b.id(), b.weight(), b.isHealthy(), b.circuit().phase(),
                    b.activeConnections(), b.totalConnections(), b.failedConnections()));
        }
        return new ProxyStatus.Pool(pool.name(), backends);
    }

    /** Closes every listener, connection and session now. */
    void close() {
        if (tcpListener != null) {
            tcpListener.close();
        }
        if (udpListener != null) {
            udpListener.close();
        }
        retiredTcp.forEach(TcpListener::close);
        retiredUdp.forEach(UdpListener::close);
    }

    public String name() {
        return name;
    }

    public BackendPool tcpPool() {
        return tcpPool;
    }

    public Optional<BackendPool> udpPool() {
        return Optional.ofNullable(udpPool);
    }

    public Optional<TcpListener> tcpListener() {
        return Optional.ofNullable(tcpListener);
    }

    public Optional<UdpListener> udpListener() {
        return Optional.ofNullable(udpListener);
    }

    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    public boolean draining() {
        return draining;
    }

    /** Config entries as pool members, hostnames resolved now (at start and at every reload). */
    private static List<BackendPool.ResolvedBackend> resolve(List<BackendConfig> backends) {
        List<BackendPool.ResolvedBackend> out = new ArrayList<>(backends.size());
        for (BackendConfig b : backends) {
            out.add(new BackendPool.ResolvedBackend(b, b.address().resolve()));
        }
        return out;
    }
}
