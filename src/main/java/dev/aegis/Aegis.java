package dev.aegis;

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
import dev.aegis.health.HealthChecker;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
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
    private final Service service;
    private volatile AegisConfig config;
    private ScheduledFuture<?> sweep;
    /** Test hook: runs after a reload has read the file and before it applies it. */
    private volatile Runnable afterConfigRead = () -> { };

    /** A core whose backend connect times go nowhere (tests, tools). */
    public Aegis(Path configFile, AegisConfig config) {
        this(configFile, config, nanos -> { });
    }

    /**
     * @param connectLatency receives the time of every successful backend connect, in nanoseconds
     *                       (the metrics' histogram); called on the data path, so it must be cheap
     */
    public Aegis(Path configFile, AegisConfig config, LongConsumer connectLatency) {
        this.configFile = configFile;
        this.config = config;
        this.service = new Service("proxy", config, health, connectLatency);
    }

    /** Binds every listener and starts serving. A bind failure throws and leaves nothing running. */
    public void start() throws IOException {
        lifecycle.lock();
        try {
            try {
                service.start(config);
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
            try {
                service.apply(config, next);
            } catch (IOException e) {
                reloadsFailed.incrementAndGet();
                log.warn("reload rejected error=\"{}\"", e.getMessage());
                return new ReloadResult(false, generation.get(), List.of(e.getMessage()), loaded.warnings());
            }
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
            log.info("reloaded generation={} backends={} algorithm={}",
                    gen, next.proxy().backends().size(), next.proxy().loadBalancing().algorithm().yamlName());
            return new ReloadResult(true, gen, List.of(), loaded.warnings());
        } finally {
            lifecycle.unlock();
        }
    }

    /** The sweep runs at a quarter of the shortest TCP timeout, between 10 ms and 250 ms. */
    private void scheduleSweep(AegisConfig c) {
        Duration idle = c.proxy().traffic().timeout().idle();
        Duration read = c.proxy().traffic().timeout().read();
        long period = Math.clamp(Math.min(idle.toMillis(), read.toMillis()) / 4, 10, 250);
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweep = housekeeping.scheduleAtFixedRate(this::sweepOnce, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweepOnce() {
        try {
            service.sweep();
        } catch (RuntimeException e) {
            // a periodic task that throws is never run again: log and carry on
            log.error("sweep failed", e);
        }
    }

    private void sweepRateLimits() {
        try {
            service.sweepRateLimiter();
        } catch (RuntimeException e) {
            log.error("rate limiter sweep failed", e);
        }
    }

    /** Stops (true) or resumes (false) accepting new connections and sessions; open ones carry on. */
    @Override
    public void setDraining(boolean draining) {
        lifecycle.lock();
        try {
            service.setDraining(draining);
            log.info(draining ? "draining: new connections and sessions refused" : "resumed: accepting new connections");
        } finally {
            lifecycle.unlock();
        }
    }

    public boolean draining() {
        return service.draining();
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
            Duration timeout = config.shutdown().drainTimeout();
            log.info("shutting down: draining open connections drain_timeout_ms={} active={}",
                    timeout.toMillis(), service.activeConnections());
            service.stopAccepting();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (service.activeConnections() > 0 && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(20_000_000L);
            }
            int left = service.activeConnections();
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
        housekeeping.shutdownNow();
        health.close();
        service.close();
        AccessLog.flush(); // the lines of the connections just closed
    }

    public Service service() {
        return service;
    }

    public AegisConfig config() {
        return config;
    }

    /**
     * Adds a backend at run time (admin API): it lives until the next reload, which returns to
     * the file. @return false when the pool already has that address or does not exist
     */
    @Override
    public boolean addBackend(boolean udp, BackendConfig backend) {
        lifecycle.lock();
        try {
            boolean added = service.addBackend(udp, backend);
            if (added) {
                log.info("backend added backend={} pool={} weight={}", backend.id(), udp ? "udp" : "tcp", backend.weight());
            }
            return added;
        } finally {
            lifecycle.unlock();
        }
    }

    /** Removes a backend at run time; its open connections finish. @return false if unknown */
    @Override
    public boolean removeBackend(boolean udp, String id) {
        lifecycle.lock();
        try {
            Backend removed = service.removeBackend(udp, id);
            if (removed != null) {
                log.info("backend removed backend={} pool={} active={}", id, udp ? "udp" : "tcp", removed.activeConnections());
            }
            return removed != null;
        } finally {
            lifecycle.unlock();
        }
    }

    /** What the admin API reports and the metrics export, read now. */
    public ProxyStatus status() {
        return new ProxyStatus(Version.get(),
                (System.currentTimeMillis() - startedAtMillis) / 1000,
                service.draining(),
                generation.get(),
                reloadsOk.get(),
                reloadsFailed.get(),
                configFile,
                config,
                service.tcpListener().map(l -> new ProxyStatus.Listener(l.localAddress(), l.stats().acceptedConnections())),
                service.udpListener().map(l -> new ProxyStatus.Listener(l.localAddress(), 0)),
                service.activeConnections(),
                service.udpSessions(),
                Service.describe(service.tcpPool()),
                service.udpPool().map(Service::describe),
                service.tcpTotals(),
                service.udpTotals());
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
