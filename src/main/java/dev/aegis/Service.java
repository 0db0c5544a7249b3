package dev.aegis;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.BackendRemoval;
import dev.aegis.config.DiscoveryConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.ProxyProtocolConfig;
import dev.aegis.config.ServiceConfig;
import dev.aegis.config.TlsRouteConfig;
import dev.aegis.control.ProxyStatus;
import dev.aegis.discovery.Discovery;
import dev.aegis.health.HealthChecker;
import dev.aegis.tcp.CloseReason;
import dev.aegis.tcp.ConnectionQueue;
import dev.aegis.tcp.ConnectionContext;
import dev.aegis.tcp.RejectReason;
import dev.aegis.tcp.TcpListener;
import dev.aegis.tcp.TcpSettings;
import dev.aegis.tcp.TcpStats;
import dev.aegis.tcp.TlsRouting;
import dev.aegis.tls.ServerNameMatcher;
import dev.aegis.traffic.RateLimiter;
import dev.aegis.udp.UdpListener;
import dev.aegis.udp.UdpSettings;
import dev.aegis.udp.UdpStats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service (SPEC §9): its listeners (one per bound address: a port range is many), its backend
 * pools and its policies (rate limits, timeouts). Services share nothing but the health checker
 * and the housekeeping thread, so a reload that changes one leaves the others' connections,
 * sessions, counters, health and circuits as they were.
 *
 * <p>The TCP pool is {@code backends}; the UDP pool is {@code udp_backends}, or a second pool
 * over {@code backends} when that is absent (so UDP sessions and TCP connections are counted,
 * limited and health-checked per protocol).
 *
 * <p>With {@code discovery} (SPEC §11), DNS answers join the {@code backends} pool (and the UDP
 * pool when it is built over {@code backends}) and leave it as the admin API adds and removes
 * backends; a reload keeps them (static ones are the file's, discovered ones DNS's).
 *
 * <p>A config change is applied in two steps so that a reload of several services can bind every
 * new address before it changes anything: {@link #prepare} binds, then {@link #commit} swaps, or
 * {@link Prepared#abort} closes what was bound. Not thread-safe by itself: {@link Aegis}
 * serialises every lifecycle call.
 */
public final class Service {

    private static final Logger log = LoggerFactory.getLogger(Service.class);

    private final String name;
    private final HealthChecker health;
    private final BackendPool tcpPool;
    /** Gives this service its connect-latency recorder: a metric series, so only once it runs. */
    private final Function<String, ObjLongConsumer<String>> recorders;
    /** Set by the first {@link #commit}: a service whose reload was rejected never shows in the metrics. */
    private volatile ObjLongConsumer<String> connectLatency;
    /** Open TCP connections of every listener of this service, old and new: what max_connections limits. */
    private final AtomicInteger openTcp = new AtomicInteger();
    /** Where TCP connections wait when every eligible backend is full; one across reloads. */
    private final ConnectionQueue queue;
    /**
     * {@code backend_removal} of the config being applied: set by {@link #commit} before it
     * reconfigures the pools, so a reload that both turns {@code close} on and removes a backend
     * closes its connections.
     */
    private volatile BackendRemoval removal;
    /** Live UDP sessions of every listener of this service: what udp_max_sessions limits. */
    private final AtomicInteger liveUdp = new AtomicInteger();
    // volatile: written under Aegis's lifecycle lock, read by the admin API and metrics threads
    private volatile ServiceConfig config;
    private volatile boolean accessLog;
    private volatile BackendPool udpPool;
    /**
     * The pool of each TLS route, by its name ({@code tls:} and the first server name): a route
     * kept across a reload keeps its pool, with its balancing state, health and circuits.
     */
    private final Map<String, BackendPool> tlsPools = new ConcurrentHashMap<>();
    /** The health-check keys of the TLS pools being watched, to stop those of removed routes. */
    private Set<String> watchedTls = Set.of();
    /** The listeners in config order, keyed by the address as written; replaced as a whole. */
    private volatile Map<HostPort, TcpListener> tcpListeners = Map.of();
    private volatile Map<HostPort, UdpListener> udpListeners = Map.of();
    private volatile RateLimiter rateLimiter;
    private volatile boolean draining;
    /** Listeners a reload took away: they accept nothing and are closed once their traffic ended. */
    private final List<TcpListener> retiredTcp = new CopyOnWriteArrayList<>();
    /**
     * Retired UDP listeners by address. Unlike a retired TCP listener, one still holds its port
     * (its sessions' replies leave from it), so a reload that lists the address again takes it
     * back instead of binding a second socket. Entries leave only under {@link #udpTotalsLock}.
     */
    private final Map<HostPort, UdpListener> retiredUdp = new ConcurrentHashMap<>();
    /** Retired UDP listeners a prepared reload takes back: the sweep leaves them open. Guarded by {@link #udpTotalsLock}. */
    private final Set<UdpListener> takenBack = new HashSet<>();
    /** The counters of every TCP listener since start: the totals never go backwards. */
    private final List<TcpStats> everyTcp = new CopyOnWriteArrayList<>();
    /** Guards {@link #closedUdp} and every removal from {@link #retiredUdp} (sweep, take back). */
    private final Object udpTotalsLock = new Object();
    /** The final counters of the UDP listeners closed since start. */
    private UdpStats closedUdp = ZERO_UDP;
    private static final UdpStats ZERO_UDP = new UdpStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    /** Dispatches the DNS refreshes of every service (they run on virtual threads of their own). */
    private final ScheduledExecutorService discoveryScheduler;
    /** Runs a change of this service the way every lifecycle call runs: under Aegis's lock. */
    private final Consumer<Runnable> serialised;
    /** The running DNS discovery, null without {@code discovery}. Replaced by a reload that changes it. */
    private volatile Discovery discovery;
    /** The ids discovery put in the pools (static backends of the same address are not among them). */
    private volatile Set<String> discovered = Set.of();

    /**
     * @param recorders per service name, the recorder of every successful backend connect time, in
     *                  nanoseconds; asked once, when the service first runs
     */
    Service(ServiceConfig config, boolean accessLog, HealthChecker health,
            Function<String, ObjLongConsumer<String>> recorders,
            ScheduledExecutorService discoveryScheduler, Consumer<Runnable> serialised) {
        this.discoveryScheduler = discoveryScheduler;
        this.serialised = serialised;
        this.name = config.name();
        this.config = config;
        this.accessLog = accessLog;
        this.health = health;
        this.recorders = recorders;
        this.rateLimiter = new RateLimiter(config.traffic().rateLimit());
        this.queue = new ConnectionQueue(config.queue());
        this.removal = config.backendRemoval();
        this.tcpPool = new BackendPool("tcp", resolve(config.backends()), config.loadBalancing(),
                config.circuitBreaker(), Balancers::create, this::backendsRemoved);
        if (config.listen().hasUdp()) {
            udpPool = newUdpPool(config);
        }
    }

    private static BackendPool newUdpPool(ServiceConfig c) {
        return new BackendPool("udp", resolve(c.effectiveUdpBackends()), c.loadBalancing(), c.circuitBreaker(),
                Balancers::create);
    }

    /** Binds every listener and starts serving; on failure closes what was bound and throws. */
    void start() throws IOException {
        commit(prepare(config, accessLog));
    }

    /**
     * The first step of applying {@code next}: binds every address it lists that this service
     * does not listen on yet (all of them for a new service). Nothing else changes; on failure
     * what was bound is closed again and this throws.
     */
    Prepared prepare(ServiceConfig next, boolean nextAccessLog) throws IOException {
        BackendPool nextUdpPool = udpPool != null || !next.listen().hasUdp() ? udpPool : newUdpPool(next);
        Prepared p = new Prepared(next, nextAccessLog, nextUdpPool);
        try {
            for (HostPort address : next.listen().tcpAddresses()) {
                if (!tcpListeners.containsKey(address) && !p.tcp.containsKey(address)) {
                    TcpListener l = new TcpListener(address.resolve(), tcpContext(next, nextAccessLog));
                    l.setDraining(draining);
                    p.tcp.put(address, l);
                    l.start();
                }
            }
            Set<HostPort> ranged = next.listen().udpRangeAddresses();
            for (HostPort address : next.listen().udpAddresses()) {
                if (!udpListeners.containsKey(address) && !p.udp.containsKey(address) && !p.revived.containsKey(address)) {
                    UdpListener old = takeBackRetiredUdp(address);
                    if (old != null) {
                        p.revived.put(address, old); // still draining: it takes new sessions from commit on
                        continue;
                    }
                    UdpListener l = new UdpListener(address.resolve(), nextUdpPool, udpSettings(next, nextAccessLog), liveUdp);
                    if (ranged.contains(address)) {
                        l.onVirtualThreads(); // a port of a range: no kernel threads per port
                    }
                    l.setDraining(draining);
                    p.udp.put(address, l);
                    l.start();
                }
            }
        } catch (IOException | RuntimeException e) {
            p.abort();
            throw e;
        }
        return p;
    }

    /**
     * The second step: listeners of addresses {@code next} no longer lists stop accepting (their
     * connections and sessions carry on to their end); pools, limits and timeouts change in
     * place, on the retired listeners too.
     */
    void commit(Prepared p) {
        ServiceConfig next = p.config;
        if (connectLatency == null) {
            connectLatency = recorders.apply(name);
        }
        udpPool = p.udpPool;
        rateLimiter = rateLimiter.reconfigure(next.traffic().rateLimit());
        queue.reconfigure(next.queue());
        removal = next.backendRemoval();
        Discovery nextDiscovery = nextDiscovery(next.discovery());
        List<BackendConfig> found = nextDiscovery == null ? List.of() : nextDiscovery.backends();
        tcpPool.reconfigure(withDiscovered(next.backends(), found), next.loadBalancing(), next.circuitBreaker());
        Set<String> routes = new HashSet<>();
        for (TlsRouteConfig route : next.tlsRoutes()) {
            routes.add(route.poolName());
            tlsPool(next, route).reconfigure(resolve(route.backends()), next.loadBalancing(), next.circuitBreaker());
        }
        tlsPools.keySet().retainAll(routes);
        if (udpPool != null) {
            udpPool.reconfigure(next.udpBackends().isEmpty() ? withDiscovered(next.backends(), found)
                    : resolve(next.udpBackends()), next.loadBalancing(), next.circuitBreaker());
        }
        Set<String> staticIds = ids(next.backends());
        discovered = ids(found.stream().filter(b -> !staticIds.contains(b.id())).toList());
        Map<HostPort, TcpListener> tcp = new LinkedHashMap<>();
        for (HostPort address : next.listen().tcpAddresses()) {
            TcpListener l = tcpListeners.get(address);
            if (l == null) {
                l = p.tcp.get(address);
                everyTcp.add(l.stats());
            }
            tcp.put(address, l);
        }
        for (Map.Entry<HostPort, TcpListener> old : tcpListeners.entrySet()) {
            if (!tcp.containsKey(old.getKey())) {
                old.getValue().stopAccepting(); // open connections carry on to their natural end
                retiredTcp.add(old.getValue());
            }
        }
        Map<HostPort, UdpListener> udp = new LinkedHashMap<>();
        for (HostPort address : next.listen().udpAddresses()) {
            UdpListener l = udpListeners.get(address);
            if (l == null) {
                l = p.revived.containsKey(address) ? p.revived.get(address) : p.udp.get(address);
            }
            udp.put(address, l);
        }
        for (Map.Entry<HostPort, UdpListener> old : udpListeners.entrySet()) {
            if (!udp.containsKey(old.getKey())) {
                retireUdp(old.getKey(), old.getValue());
            }
        }
        tcpListeners = tcp;
        udpListeners = udp;
        synchronized (udpTotalsLock) {
            p.revived.forEach((address, l) -> {
                retiredUdp.remove(address, l);
                takenBack.remove(l);
                l.setDraining(draining);
            });
        }
        config = next;
        accessLog = p.accessLog;
        // Every listener, retired ones too: open connections and sessions get the new timeouts.
        ConnectionContext context = tcpContext(next, p.accessLog);
        for (TcpListener l : tcp.values()) {
            l.reconfigure(context);
        }
        for (TcpListener l : retiredTcp) {
            l.reconfigure(context);
        }
        UdpSettings settings = udpSettings(next, p.accessLog);
        for (UdpListener l : udp.values()) {
            l.reconfigure(settings);
        }
        for (UdpListener l : retiredUdp.values()) {
            l.reconfigure(settings);
        }
        watchHealth();
        Discovery running = discovery;
        discovery = nextDiscovery;
        if (nextDiscovery != null && nextDiscovery != running) {
            // its first refresh applies once this lifecycle call has ended (it needs the same lock)
            nextDiscovery.start(discoveryScheduler, d -> serialised.accept(() -> applyDiscovered(d)));
        }
    }

    /**
     * The discovery for {@code next}: the running one when its config is unchanged (its backends
     * stay, nothing flaps), else a new one that starts from the running one's answers, or none.
     * The replaced one stops. Nothing here asks DNS.
     */
    private Discovery nextDiscovery(Optional<DiscoveryConfig> next) {
        Discovery current = discovery;
        if (current != null && next.isPresent() && current.config().equals(next.get())) {
            return current;
        }
        if (current != null) {
            current.stop();
        }
        return next.map(c -> new Discovery(name, c, current)).orElse(null);
    }

    /** The file's backends, then the discovered ones whose address the file does not list. */
    private static List<BackendPool.ResolvedBackend> withDiscovered(List<BackendConfig> backends, List<BackendConfig> found) {
        List<BackendPool.ResolvedBackend> out = resolve(backends);
        Set<String> staticIds = ids(backends);
        for (BackendConfig b : found) {
            if (!staticIds.contains(b.id())) {
                out.add(new BackendPool.ResolvedBackend(b, b.address().resolve()));
            }
        }
        return out;
    }

    private static Set<String> ids(List<BackendConfig> backends) {
        Set<String> out = new HashSet<>();
        for (BackendConfig b : backends) {
            out.add(b.id());
        }
        return out;
    }

    /**
     * Applies a refresh of {@code source} under the lifecycle lock: an address DNS gives that is
     * not in the pool joins (also one an operator deleted: DNS still lists it), one it no longer
     * gives leaves as {@link #removeBackend} removes it, a changed SRV weight is updated in place.
     * A refresh of a discovery a reload has replaced changes nothing.
     */
    private void applyDiscovered(Discovery source) {
        if (source != discovery) {
            return;
        }
        ServiceConfig c = config;
        List<BackendConfig> found = source.backends();
        Set<String> staticIds = ids(c.backends());
        Set<String> now = new HashSet<>();
        List<String> pools = new ArrayList<>(List.of("tcp"));
        if (udpPool != null && c.udpBackends().isEmpty()) {
            pools.add("udp");
        }
        for (BackendConfig b : found) {
            if (staticIds.contains(b.id())) {
                continue;
            }
            now.add(b.id());
            for (String poolName : pools) {
                BackendPool pool = pool(poolName);
                Backend existing = pool.current().find(b.id());
                if (existing == null) {
                    if (addBackend(poolName, b)) {
                        log.info("backend added service={} backend={} pool={} weight={} source=dns",
                                name, b.id(), pool.name(), b.weight());
                    }
                } else if (discovered.contains(b.id()) && !existing.config().equals(b)) {
                    pool.update(new BackendPool.ResolvedBackend(b, b.address().resolve()));
                }
            }
        }
        for (String gone : discovered) {
            if (now.contains(gone)) {
                continue;
            }
            for (String poolName : pools) {
                Backend removed = removeBackend(poolName, gone);
                if (removed != null) {
                    log.info("backend removed service={} backend={} pool={} active={} source=dns",
                            name, gone, poolName, removed.activeConnections());
                }
            }
        }
        discovered = Set.copyOf(now);
    }

    /** Test hook: the running discovery, if any. */
    Optional<Discovery> discovery() {
        return Optional.ofNullable(discovery);
    }

    /** Takes no new sessions there; its sessions carry on until they end, then the sweep closes it. */
    private void retireUdp(HostPort address, UdpListener l) {
        l.setDraining(true);
        retiredUdp.put(address, l);
    }

    /**
     * The retired listener of {@code address}, kept open from now on; null if none is open. It
     * stays among the retired (and counted there) until {@link #commit} makes it current.
     */
    private UdpListener takeBackRetiredUdp(HostPort address) {
        synchronized (udpTotalsLock) {
            UdpListener l = retiredUdp.get(address);
            if (l != null) {
                takenBack.add(l);
            }
            return l;
        }
    }

    /**
     * Removal by a reload: every listener retires (TCP ports are released, UDP ones take no new
     * session), health checks stop. Open connections and sessions carry on; the service can come
     * back in a later reload ({@link #prepare} takes its UDP listeners back).
     */
    void retire() {
        for (TcpListener l : tcpListeners.values()) {
            l.stopAccepting();
            retiredTcp.add(l);
        }
        for (Map.Entry<HostPort, UdpListener> e : udpListeners.entrySet()) {
            retireUdp(e.getKey(), e.getValue());
        }
        tcpListeners = Map.of();
        udpListeners = Map.of();
        unwatchHealth();
        stopDiscovery();
    }

    /** Stops resolving (the service was removed or closes); the discovered backends stay as they are. */
    private void stopDiscovery() {
        Discovery d = discovery;
        if (d != null) {
            d.stop();
            discovery = null;
        }
    }

    /** UDP addresses a retired listener still holds (until its sessions ended). */
    Set<HostPort> retiredUdpAddresses() {
        return Set.copyOf(retiredUdp.keySet());
    }

    /** Listeners bound for a config that is not applied yet. */
    final class Prepared {
        private final ServiceConfig config;
        private final boolean accessLog;
        private final BackendPool udpPool;
        private final Map<HostPort, TcpListener> tcp = new LinkedHashMap<>();
        private final Map<HostPort, UdpListener> udp = new LinkedHashMap<>();
        /** Retired listeners this config lists again, taken back: draining until commit. */
        private final Map<HostPort, UdpListener> revived = new LinkedHashMap<>();

        private Prepared(ServiceConfig config, boolean accessLog, BackendPool udpPool) {
            this.config = config;
            this.accessLog = accessLog;
            this.udpPool = udpPool;
        }

        /** Closes what was bound and retires again what was taken back: the service stays as it was. */
        void abort() {
            tcp.values().forEach(TcpListener::close);
            // waits for each port to be released: the caller may report it free or bind it again
            udp.values().forEach(l -> l.closeAndAwait(Duration.ofSeconds(1)));
            synchronized (udpTotalsLock) {
                takenBack.removeAll(revived.values()); // retired as before: the sweep may close them
            }
            revived.clear();
        }

        Service service() {
            return Service.this;
        }
    }

    /**
     * What TCP connections use in this config generation. It reads {@link #rateLimiter} when
     * called, not when built: a reload replaces the limiter after it has bound new listeners.
     */
    private ConnectionContext tcpContext(ServiceConfig c, boolean log) {
        return new ConnectionContext(TcpSettings.from(c, log), tcpPool,
                client -> rateLimiter.admit(client).admitted() ? null : RejectReason.RATE_LIMITED,
                Balancers::hashClient, () -> rateLimiter.newBandwidthBucket(), this::recordConnect, openTcp,
                tlsRouting(c), queue);
    }

    /** The routes of {@code c}, each with its pool (made here for a new route, reconfigured by commit). */
    private TlsRouting tlsRouting(ServiceConfig c) {
        if (c.tlsRoutes().isEmpty()) {
            return TlsRouting.NONE;
        }
        List<BackendPool> pools = new ArrayList<>();
        for (TlsRouteConfig route : c.tlsRoutes()) {
            pools.add(tlsPool(c, route));
        }
        return new TlsRouting(ServerNameMatcher.of(c.tlsRoutes().stream().map(TlsRouteConfig::serverNames).toList()),
                pools, c.traffic().timeout().clientHello());
    }

    private BackendPool tlsPool(ServiceConfig c, TlsRouteConfig route) {
        return tlsPools.computeIfAbsent(route.poolName(), poolName -> new BackendPool(poolName,
                resolve(route.backends()), c.loadBalancing(), c.circuitBreaker(), Balancers::create,
                this::backendsRemoved));
    }

    /** The TLS routes' pools of the current config, in route order. */
    public List<BackendPool> tlsPools() {
        List<BackendPool> pools = new ArrayList<>();
        for (TlsRouteConfig route : config.tlsRoutes()) {
            BackendPool pool = tlsPools.get(route.poolName());
            if (pool != null) {
                pools.add(pool);
            }
        }
        return pools;
    }

    private void recordConnect(String backend, long nanos) {
        ObjLongConsumer<String> r = connectLatency;
        if (r != null) {
            r.accept(backend, nanos);
        }
    }

    private UdpSettings udpSettings(ServiceConfig c, boolean log) {
        var t = c.traffic();
        return new UdpSettings(t.timeout().udpSession(), t.udpMaxSessions(), log,
                client -> rateLimiter.admit(client.getAddress()).admitted(), () -> rateLimiter.newPacketBucket(),
                c.udp().responses(), c.udp().perPacket(), c.name(),
                c.proxyProtocol().send() == ProxyProtocolConfig.Send.V2, c.proxyProtocol().acceptFrom());
    }

    /**
     * Checks the pools that serve a listener: a UDP-only service's TCP pool carries no traffic
     * (and its port-less backends would be probed on no port), nor does the UDP pool of a
     * service that dropped its UDP listeners.
     */
    private void watchHealth() {
        Map<HostPort, TcpListener> tcp = tcpListeners;
        Map<HostPort, UdpListener> udp = udpListeners;
        BackendPool u = udpPool;
        health.watch(name + "/tcp", false, tcp.isEmpty() ? List.of() : tcpPool.current().backends(),
                tcp.isEmpty() ? 0 : tcp.values().iterator().next().localAddress().getPort());
        health.watch(name + "/udp", true, udp.isEmpty() || u == null ? List.of() : u.current().backends(),
                udp.isEmpty() ? 0 : udp.values().iterator().next().localAddress().getPort());
        Set<String> watched = new HashSet<>();
        for (BackendPool pool : tcp.isEmpty() ? List.<BackendPool>of() : tlsPools()) {
            String key = name + "/" + pool.name();
            watched.add(key);
            health.watch(key, false, pool.current().backends(), tcp.values().iterator().next().localAddress().getPort());
        }
        unwatchTls(watched);
    }

    /** Stops checking the TLS pools that are not in {@code keep}. */
    private void unwatchTls(Set<String> keep) {
        for (String key : watchedTls) {
            if (!keep.contains(key)) {
                health.watch(key, false, List.of(), 0);
            }
        }
        watchedTls = Set.copyOf(keep);
    }

    /** Stops health-checking this service's pools (it was removed). */
    private void unwatchHealth() {
        health.watch(name + "/tcp", false, List.of(), 0);
        health.watch(name + "/udp", true, List.of(), 0);
        unwatchTls(Set.of());
    }

    /**
     * Adds a backend at run time (admin API) to {@code tcp}, {@code udp} or a TLS route's pool.
     * @return false when the address is already in the pool, or there is no such pool
     */
    boolean addBackend(String poolName, BackendConfig backend) {
        BackendPool pool = pool(poolName);
        if (pool == null) {
            return false;
        }
        boolean added = pool.add(new BackendPool.ResolvedBackend(backend, backend.address().resolve()));
        if (added) {
            watchHealth();
        }
        return added;
    }

    /** Removes a backend at run time; its open connections finish. @return the backend or null */
    Backend removeBackend(String poolName, String id) {
        BackendPool pool = pool(poolName);
        Backend removed = pool == null ? null : pool.remove(id);
        if (removed != null) {
            watchHealth();
        }
        return removed;
    }

    /**
     * The pool of that name: {@code tcp}, {@code udp} (null without one), or a route of the current
     * config's {@code tls_routes} by its pool name (the map keeps only those); null for any other.
     */
    private BackendPool pool(String name) {
        return switch (name) {
            case "tcp" -> tcpPool;
            case "udp" -> udpPool;
            default -> name.startsWith(TlsRouteConfig.POOL_PREFIX) ? tlsPools.get(name) : null;
        };
    }

    /**
     * Backends left a TCP pool (reload, admin API, or any other remover of the pool). Under
     * {@code backend_removal: close} their open connections are reset now, on every listener of
     * the service; under {@code drain} they carry on. (A UDP session ends when its backend leaves
     * either way: see UdpListener.)
     */
    private void backendsRemoved(List<Backend> removed) {
        if (removal != BackendRemoval.CLOSE) {
            return;
        }
        for (Backend b : removed) {
            b.markEvicted(); // before the look below: a connect finishing after it closes itself
        }
        for (TcpListener l : tcpListeners.values()) {
            l.evict(removed);
        }
        for (TcpListener l : retiredTcp) {
            l.evict(removed);
        }
    }

    /** Timeouts of TCP connections and retired listeners. Housekeeping thread. */
    void sweep() {
        for (TcpListener l : tcpListeners.values()) {
            l.sweep();
        }
        for (TcpListener old : retiredTcp) {
            old.sweep();
            if (old.activeConnections() == 0) {
                retiredTcp.remove(old);
            }
        }
        for (Map.Entry<HostPort, UdpListener> e : retiredUdp.entrySet()) {
            UdpListener old = e.getValue();
            synchronized (udpTotalsLock) {
                // under the lock: a reload may be taking it back right now
                if (old.sessionCount() == 0 && !takenBack.contains(old) && retiredUdp.remove(e.getKey(), old)) {
                    old.close();
                    closedUdp = plus(closedUdp, old.stats());
                }
            }
        }
    }

    void sweepRateLimiter() {
        rateLimiter.sweep();
    }

    void setDraining(boolean draining) {
        this.draining = draining;
        for (TcpListener l : tcpListeners.values()) {
            l.setDraining(draining);
        }
        for (UdpListener l : udpListeners.values()) {
            l.setDraining(draining);
        }
    }

    /** Graceful shutdown or removal, first step: the TCP ports are released, UDP takes no new sessions. */
    void stopAccepting() {
        setDraining(true);
        for (TcpListener l : tcpListeners.values()) {
            l.stopAccepting();
        }
    }

    /** Open TCP connections, on the current and retired listeners. */
    public int activeConnections() {
        int n = 0;
        for (TcpListener l : tcpListeners.values()) {
            n += l.activeConnections();
        }
        for (TcpListener old : retiredTcp) {
            n += old.activeConnections();
        }
        return n;
    }

    /** Live UDP sessions, on the current and retired listeners. */
    public int udpSessions() {
        int n = 0;
        for (UdpListener l : udpListeners.values()) {
            n += l.sessionCount();
        }
        for (UdpListener old : retiredUdp.values()) {
            if (!udpListeners.containsValue(old)) { // a commit makes it current before it leaves here
                n += old.sessionCount();
            }
        }
        return n;
    }

    /** What the admin API and the metrics show of this service, read now. */
    ProxyStatus.ServiceStatus status() {
        List<ProxyStatus.Listener> tcp = new ArrayList<>();
        for (TcpListener l : tcpListeners.values()) {
            tcp.add(new ProxyStatus.Listener(l.localAddress(), l.stats().acceptedConnections()));
        }
        List<ProxyStatus.Listener> udp = new ArrayList<>();
        for (UdpListener l : udpListeners.values()) {
            udp.add(new ProxyStatus.Listener(l.localAddress(), 0));
        }
        BackendPool u = udpPool;
        ServiceConfig c = config;
        Set<String> fromFile = ids(c.backends());
        Set<String> fromUdpFile = ids(c.effectiveUdpBackends());
        Set<String> fromDns = discovered;
        Discovery d = discovery;
        return new ProxyStatus.ServiceStatus(name, c, draining, tcp, udp, activeConnections(), udpSessions(),
                describe(tcpPool, fromFile, fromDns), Optional.ofNullable(u).map(p -> describe(p, fromUdpFile, fromDns)),
                tcpTotals(), udpTotals(), tlsPools().stream().map(Service::describe).toList(),
                d == null ? Map.of() : d.errors());
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
        return new ProxyStatus.TcpTotals(active, accepted, from, to, rejected, closed, queue.length());
    }

    /** UDP counters summed over every listener since start (all zero without a UDP listener). */
    UdpStats udpTotals() {
        synchronized (udpTotalsLock) {
            UdpStats sum = closedUdp;
            for (UdpListener l : udpListeners.values()) {
                if (!retiredUdp.containsValue(l)) {
                    sum = plus(sum, l.stats());
                }
            }
            for (UdpListener old : retiredUdp.values()) {
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
                a.bytesToClients() + b.bytesToClients(), a.droppedBadProxyHeader() + b.droppedBadProxyHeader());
    }

    /** A pool of the file only (a TLS route's): its current members and their live numbers. */
    static ProxyStatus.Pool describe(BackendPool pool) {
        return describe(pool, null, Set.of());
    }

    /**
     * A pool's current members and their live numbers, each with where it came from.
     *
     * @param fromFile the ids the file lists; null = every member is the file's
     * @param fromDns  the ids discovery put in
     */
    static ProxyStatus.Pool describe(BackendPool pool, Set<String> fromFile, Set<String> fromDns) {
        List<ProxyStatus.Backend> backends = new ArrayList<>();
        for (Backend b : pool.current().backends()) {
            String source = fromFile == null || fromFile.contains(b.id()) ? ProxyStatus.Backend.CONFIG
                    : fromDns.contains(b.id()) ? ProxyStatus.Backend.DNS : ProxyStatus.Backend.API;
            backends.add(new ProxyStatus.Backend(b.id(), b.weight(), b.isHealthy(), b.circuit().phase(),
                    b.activeConnections(), b.totalConnections(), b.failedConnections(),
                    b.bytesFromClients(), b.bytesToClients(), source));
        }
        return new ProxyStatus.Pool(pool.name(), backends);
    }

    /** Closes every listener, connection and session now. */
    void close() {
        stopDiscovery();
        tcpListeners.values().forEach(TcpListener::close);
        udpListeners.values().forEach(UdpListener::close);
        retiredTcp.forEach(TcpListener::close);
        retiredUdp.values().forEach(UdpListener::close);
    }

    public String name() {
        return name;
    }

    public ServiceConfig config() {
        return config;
    }

    public BackendPool tcpPool() {
        return tcpPool;
    }

    public Optional<BackendPool> udpPool() {
        return Optional.ofNullable(udpPool);
    }

    /** The current TCP listeners in config order (a port range gives one per port). */
    public List<TcpListener> tcpListeners() {
        return List.copyOf(tcpListeners.values());
    }

    public List<UdpListener> udpListeners() {
        return List.copyOf(udpListeners.values());
    }

    /** The first TCP listener, if any (tests and tools of one-listener services). */
    public Optional<TcpListener> tcpListener() {
        return tcpListeners.values().stream().findFirst();
    }

    public Optional<UdpListener> udpListener() {
        return udpListeners.values().stream().findFirst();
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
