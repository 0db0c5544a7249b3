package dev.aegis;

import dev.aegis.control.ConnectTimes;
import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.accesslog.AccessLog;
import dev.aegis.backend.Backend;
import dev.aegis.config.AegisConfig;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.ConfigException;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadedConfig;
import dev.aegis.config.ServiceConfig;
import dev.aegis.health.HealthChecker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy core: owns the service built from the config, the health checker, the housekeeping
 * scheduler, and the lifecycle: start, reload, drain, shutdown. The config is an immutable
 * snapshot; a reload validates a new one and applies it as a whole, or changes nothing. The
 * layers that look at it (metrics, admin API) are built by {@link Main.Daemon} and see it through
 * {@link ProxyControl} and {@link #status()}.
 */
public final class Aegis implements ProxyControl, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Aegis.class);

    private final Path configFile;
    private final long startedAtMillis = System.currentTimeMillis();
    private final AtomicLong generation = new AtomicLong(1);
    private final AtomicLong reloadsOk = new AtomicLong();
    private final AtomicLong reloadsFailed = new AtomicLong();
    /** Serialises lifecycle changes (reload, drain, runtime backends, shutdown); never taken on the data path. */
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("aegis-housekeeping").daemon(true).factory());
    private final HealthChecker health = new HealthChecker();
    /** Dispatches DNS discovery refreshes; the lookups run on virtual threads, never on this thread. */
    private final ScheduledExecutorService discovery = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("aegis-discovery").daemon(true).factory());
    private final ConnectTimes connectTimes;
    /** The services in config order, by name; replaced as a whole under the lifecycle lock. */
    private volatile Map<String, Service> services;
    /** Services a reload removed: they accept nothing and are closed when their traffic ended or at their deadline. */
    private final List<Retiring> retiring = new CopyOnWriteArrayList<>();
    /** {@code POST /drain} without a service: a service a later reload adds starts draining too. */
    private volatile boolean drainingAll;
    private volatile AegisConfig config;
    private ScheduledFuture<?> sweep;
    /** Set when shutdown begins: a reload from then on would bind listeners nobody closes. */
    private volatile boolean stopping;
    /** Test hook: runs after a reload has read the file and before it applies it. */
    private volatile Runnable afterConfigRead = () -> { };

    /** A core whose backend connect times go nowhere (tests, tools). */
    public Aegis(Path configFile, AegisConfig config) {
        this(configFile, config, ConnectTimes.NONE);
    }

    /**
     * @param connectTimes per service, receives the time of every successful backend connect
     *                     (the metrics' histogram)
     */
    public Aegis(Path configFile, AegisConfig config, ConnectTimes connectTimes) {
        this.configFile = configFile;
        this.config = config;
        this.connectTimes = connectTimes;
        Map<String, Service> built = new LinkedHashMap<>();
        for (ServiceConfig sc : config.services()) {
            built.put(sc.name(), newService(sc, config));
        }
        this.services = Collections.unmodifiableMap(built);
    }

    private Service newService(ServiceConfig sc, AegisConfig c) {
        return new Service(sc, c.logging().accessLog(), health, connectTimes::service, discovery, this::serialised);
    }

    /** Runs {@code change} under the lifecycle lock (a DNS discovery refresh applying its joins and leaves). */
    private void serialised(Runnable change) {
        lifecycle.lock();
        try {
            if (!stopping) {
                change.run();
            }
        } finally {
            lifecycle.unlock();
        }
    }

    /** A service removed by a reload, closed at the latest at {@code deadline} (System.nanoTime). */
    private record Retiring(Service service, long deadline) {
    }

    /** Binds every listener and starts serving. A bind failure throws and leaves nothing running. */
    public void start() throws IOException {
        lifecycle.lock();
        try {
            try {
                for (Service service : services.values()) {
                    service.start();
                }
            } catch (IOException e) {
                close();
                throw e;
            }
            scheduleSweep(config);
            housekeeping.scheduleWithFixedDelay(this::sweepRateLimits, 5, 5, TimeUnit.SECONDS);
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * Re-reads the config file. Invalid: nothing changes and the errors are returned. Valid:
     * pools, algorithm, limits and timeouts change in place (open connections carry on); a
     * changed listen address is bound anew before the old listener stops accepting. The file is
     * read under the lifecycle lock, so of two overlapping reloads the last applies the newest file.
     */
    @Override
    public ReloadResult reload() {
        lifecycle.lock();
        try {
            if (stopping) {
                reloadsFailed.incrementAndGet();
                log.warn("reload rejected: shutting down");
                return new ReloadResult(false, generation.get(), List.of("shutting down: no reload"), List.of());
            }
            LoadedConfig loaded;
            try {
                loaded = ConfigLoader.load(configFile);
            } catch (ConfigException e) {
                List<String> errors = e.errors().stream().map(Object::toString).toList();
                reloadsFailed.incrementAndGet();
                log.warn("reload rejected file={} errors={} first=\"{}\"", configFile, errors.size(), errors.get(0));
                return new ReloadResult(false, generation.get(), errors, List.of());
            }
            afterConfigRead.run();
            AegisConfig next = loaded.config();
            List<String> moves = addressMoves(next);
            if (!moves.isEmpty()) {
                reloadsFailed.incrementAndGet();
                log.warn("reload rejected errors={} first=\"{}\"", moves.size(), moves.get(0));
                return new ReloadResult(false, generation.get(), moves, loaded.warnings());
            }
            // Every new address of every service is bound before anything changes.
            List<Service.Prepared> prepared = new ArrayList<>();
            try {
                for (ServiceConfig sc : next.services()) {
                    Service service = services.get(sc.name());
                    if (service == null) {
                        // a service removed by an earlier reload and still draining comes back as itself
                        service = retiringService(sc.name()).orElseGet(() -> newService(sc, next));
                        if (drainingAll) {
                            service.setDraining(true); // the whole proxy drains: a new service too
                        }
                    }
                    prepared.add(service.prepare(sc, next.logging().accessLog()));
                }
            } catch (IOException e) {
                prepared.forEach(Service.Prepared::abort);
                reloadsFailed.incrementAndGet();
                log.warn("reload rejected error=\"{}\"", e.getMessage());
                return new ReloadResult(false, generation.get(), List.of(e.getMessage()), loaded.warnings());
            }
            Map<String, Service> nextServices = new LinkedHashMap<>();
            for (Service.Prepared p : prepared) {
                Service service = p.service();
                service.commit(p);
                nextServices.put(service.name(), service);
                if (!services.containsKey(service.name())) {
                    boolean back = retiring.removeIf(r -> r.service() == service);
                    log.info("service added service={} listeners={}{}", service.name(), service.config().listen(),
                            back ? " back=true" : "");
                }
            }
            long deadline = System.nanoTime() + next.shutdown().drainTimeout().toNanos();
            for (Service old : services.values()) {
                if (!nextServices.containsKey(old.name())) {
                    old.retire();
                    retiring.add(new Retiring(old, deadline));
                    log.info("service removed service={} active={} udp_sessions={}",
                            old.name(), old.activeConnections(), old.udpSessions());
                }
            }
            services = Collections.unmodifiableMap(nextServices);
            if (!next.logging().level().equals(config.logging().level())) {
                log.warn("logging.level change needs a restart level={}", config.logging().level());
            }
            if (!next.admin().apiAddress().equals(config.admin().apiAddress())
                    || !next.admin().metricsAddress().equals(config.admin().metricsAddress())) {
                log.warn("admin address change needs a restart api={} metrics={}",
                        config.admin().apiAddress(), config.admin().metricsAddress());
            }
            config = next;
            scheduleSweep(next);
            long gen = generation.incrementAndGet();
            reloadsOk.incrementAndGet();
            for (String w : loaded.warnings()) {
                log.warn("config warning: {}", w);
            }
            if (next.isSingleProxy()) {
                log.info("reloaded generation={} backends={} algorithm={}", gen,
                        next.services().get(0).backends().size(),
                        next.services().get(0).loadBalancing().algorithm().yamlName());
            } else {
                log.info("reloaded generation={} services={}", gen, String.join(",", next.serviceNames()));
            }
            return new ReloadResult(true, gen, List.of(), loaded.warnings());
        } finally {
            lifecycle.unlock();
        }
    }

    /** The removed service of that name whose traffic is still draining, if any. */
    private Optional<Service> retiringService(String name) {
        return retiring.stream().map(Retiring::service).filter(s -> s.name().equals(name)).findFirst();
    }

    /**
     * Addresses that {@code next} gives to another service than the one listening on them now. A
     * reload binds every new address before it releases any, so it cannot move one between
     * services: the operator does it in two reloads (remove, then add) or restarts. A UDP address
     * a service left (or a removed service had) stays bound while the sessions it had there
     * drain, so it cannot go to another service before they ended either.
     */
    private List<String> addressMoves(AegisConfig next) {
        // port 0 is a fresh port for every listener: it never moves
        Map<String, String> owners = new HashMap<>();
        for (ServiceConfig sc : config.services()) {
            sc.listen().tcpAddresses().stream().filter(a -> a.port() != 0).forEach(a -> owners.put("tcp " + a, sc.name()));
            sc.listen().udpAddresses().stream().filter(a -> a.port() != 0).forEach(a -> owners.put("udp " + a, sc.name()));
        }
        Map<String, String> draining = new HashMap<>();
        List<Service> holders = new ArrayList<>(services.values());
        retiring.forEach(r -> holders.add(r.service()));
        for (Service s : holders) {
            s.retiredUdpAddresses().stream().filter(a -> a.port() != 0).forEach(a -> draining.put("udp " + a, s.name()));
        }
        List<String> errors = new ArrayList<>();
        for (ServiceConfig sc : next.services()) {
            List<String> keys = new ArrayList<>();
            sc.listen().tcpAddresses().stream().filter(a -> a.port() != 0).forEach(a -> keys.add("tcp " + a));
            sc.listen().udpAddresses().stream().filter(a -> a.port() != 0).forEach(a -> keys.add("udp " + a));
            for (String key : keys) {
                String owner = owners.get(key);
                String holder = draining.get(key);
                if (owner != null && !owner.equals(sc.name())) {
                    errors.add("services." + sc.name() + ".listen: " + key + " is listened on by service " + owner
                            + " now; a reload cannot move an address between services (remove it in one reload, add it in the next)");
                } else if (owner == null && holder != null && !holder.equals(sc.name())) {
                    errors.add("services." + sc.name() + ".listen: " + key + " is still bound by service " + holder
                            + " for the UDP sessions it had there (until they end, at most shutdown.drain_timeout"
                            + " for a removed service); reload again once they ended");
                }
            }
        }
        return errors;
    }

    /** The sweep runs at a quarter of the shortest TCP timeout (max_lifetime too), between 10 ms and 250 ms. */
    private void scheduleSweep(AegisConfig c) {
        long shortest = Long.MAX_VALUE;
        for (ServiceConfig sc : c.services()) {
            shortest = Math.min(shortest, Math.min(sc.traffic().timeout().idle().toMillis(),
                    sc.traffic().timeout().read().toMillis()));
            if (!sc.traffic().timeout().maxLifetime().isZero()) {
                shortest = Math.min(shortest, sc.traffic().timeout().maxLifetime().toMillis());
            }
        }
        long period = Math.clamp(shortest / 4, 10, 250);
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweep = housekeeping.scheduleAtFixedRate(this::sweepOnce, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweepOnce() {
        try {
            for (Service service : services.values()) {
                service.sweep();
            }
            for (Retiring r : retiring) {
                r.service().sweep();
            }
            // Closing a removed service races with a reload that brings it back: only between
            // reloads. A reload in progress postpones it to a later sweep (never blocks this one).
            if (!retiring.isEmpty() && lifecycle.tryLock()) {
                try {
                    closeRetired(System.nanoTime());
                } finally {
                    lifecycle.unlock();
                }
            }
        } catch (RuntimeException e) {
            // a periodic task that throws is never run again: log and carry on
            log.error("sweep failed", e);
        }
    }

    /** Closes the removed services whose traffic ended or whose deadline passed. Under the lifecycle lock. */
    private void closeRetired(long now) {
        for (Retiring r : retiring) {
            boolean idle = r.service().activeConnections() == 0 && r.service().udpSessions() == 0;
            if (idle || now - r.deadline() >= 0) {
                if (!idle) {
                    log.warn("removed service drain timeout reached, closing service={} active={} udp_sessions={}",
                            r.service().name(), r.service().activeConnections(), r.service().udpSessions());
                }
                r.service().close();
                retiring.remove(r);
                if (!services.containsKey(r.service().name())) { // not added back meanwhile
                    connectTimes.forget(r.service().name());
                }
            }
        }
    }

    private void sweepRateLimits() {
        try {
            for (Service service : services.values()) {
                service.sweepRateLimiter();
            }
        } catch (RuntimeException e) {
            log.error("rate limiter sweep failed", e);
        }
    }

    /** Stops (true) or resumes (false) accepting new connections and sessions; open ones carry on. */
    public void setDraining(boolean draining) {
        setDraining(null, draining);
    }

    @Override
    public boolean setDraining(String name, boolean draining) {
        lifecycle.lock();
        try {
            List<Service> targets;
            if (name == null) {
                drainingAll = draining;
                targets = List.copyOf(services.values());
            } else if (services.containsKey(name)) {
                targets = List.of(services.get(name));
            } else {
                return false;
            }
            for (Service service : targets) {
                service.setDraining(draining);
            }
            String which = name == null ? "*" : name;
            if (draining) {
                log.info("draining: new connections and sessions refused service={}", which);
            } else {
                log.info("resumed: accepting new connections service={}", which);
            }
            return true;
        } finally {
            lifecycle.unlock();
        }
    }

    /** Whether every service refuses new connections and sessions. */
    public boolean draining() {
        return services.values().stream().allMatch(Service::draining);
    }

    /**
     * Graceful shutdown: stop accepting, wait up to {@code shutdown.drain_timeout} for open
     * connections to finish, close the rest.
     */
    public void shutdown() {
        lifecycle.lock();
        try {
            drainForShutdown();
            close();
            log.info("stopped");
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * The first half of {@link #shutdown}: stop accepting and wait up to
     * {@code shutdown.drain_timeout} for open connections to finish. {@link #close} ends the rest.
     */
    public void drainForShutdown() {
        lifecycle.lock();
        try {
            stopping = true;
            Duration timeout = config.shutdown().drainTimeout();
            log.info("shutting down: draining open connections drain_timeout_ms={} active={}",
                    timeout.toMillis(), activeConnections());
            for (Service service : services.values()) {
                service.stopAccepting();
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (activeConnections() > 0 && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(20_000_000L);
            }
            int left = activeConnections();
            if (left > 0) {
                log.warn("drain timeout reached, closing connections active={}", left);
            }
        } finally {
            lifecycle.unlock();
        }
    }

    /** Closes everything now. */
    @Override
    public void close() {
        stopping = true;
        housekeeping.shutdownNow();
        discovery.shutdownNow();
        health.close();
        for (Service service : services.values()) {
            service.close();
        }
        for (Retiring r : retiring) {
            r.service().close();
        }
        AccessLog.flush(); // the lines of the connections just closed
    }

    /** Open TCP connections of every service, removed ones still draining included. */
    public int activeConnections() {
        int n = 0;
        for (Service service : services.values()) {
            n += service.activeConnections();
        }
        for (Retiring r : retiring) {
            n += r.service().activeConnections();
        }
        return n;
    }

    /** The services in config order. */
    public List<Service> services() {
        return List.copyOf(services.values());
    }

    public Optional<Service> service(String name) {
        return Optional.ofNullable(services.get(name));
    }

    /** The one service of a one-service config (tests, tools); the first of several. */
    public Service service() {
        return services.values().iterator().next();
    }

    public AegisConfig config() {
        return config;
    }

    /**
     * Adds a backend at run time (admin API): it lives until the next reload, which returns to
     * the file. @return false when the pool already has that address or does not exist
     */
    @Override
    public boolean addBackend(String name, String pool, BackendConfig backend) {
        lifecycle.lock();
        try {
            Service service = services.get(name);
            boolean added = service != null && service.addBackend(pool, backend);
            if (added) {
                log.info("backend added service={} backend={} pool={} weight={}",
                        name, backend.id(), pool, backend.weight());
            }
            return added;
        } finally {
            lifecycle.unlock();
        }
    }

    /** Removes a backend at run time; its open connections finish. @return false if unknown */
    @Override
    public boolean removeBackend(String name, String pool, String id) {
        lifecycle.lock();
        try {
            Service service = services.get(name);
            Backend removed = service == null ? null : service.removeBackend(pool, id);
            if (removed != null) {
                log.info("backend removed service={} backend={} pool={} active={}",
                        name, id, pool, removed.activeConnections());
            }
            return removed != null;
        } finally {
            lifecycle.unlock();
        }
    }

    /** What the admin API reports and the metrics export, read now. */
    public ProxyStatus status() {
        List<ProxyStatus.ServiceStatus> list = new ArrayList<>();
        for (Service service : services.values()) {
            list.add(service.status());
        }
        return new ProxyStatus(Version.get(),
                (System.currentTimeMillis() - startedAtMillis) / 1000,
                draining(),
                generation.get(),
                reloadsOk.get(),
                reloadsFailed.get(),
                configFile,
                config,
                list);
    }

    /** Test hook: {@code hook} runs in every reload between reading the file and applying it. */
    void afterConfigRead(Runnable hook) {
        this.afterConfigRead = hook;
    }

    /** Test hook: whether {@code thread} waits for the lifecycle lock. */
    boolean waitsForLifecycle(Thread thread) {
        return lifecycle.hasQueuedThread(thread);
    }

    static String hostPort(InetSocketAddress a) {
        return HostPort.format(a);
    }
}
