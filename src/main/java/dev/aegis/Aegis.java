package dev.aegis;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.AegisConfig;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.ConfigException;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadedConfig;
import dev.aegis.config.ProxyConfig;
import dev.aegis.tcp.TcpListener;
import dev.aegis.tcp.TcpSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Aegis: owns the service (listeners, pools and their policies) built from the
 * config, the housekeeping scheduler, and the lifecycle: start, reload, drain, shutdown.
 * The config is an immutable snapshot; a reload validates a new one and applies it as a whole,
 * or changes nothing.
 */
public final class Aegis implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Aegis.class);

    private final Path configFile;
    private final long startedAtMillis = System.currentTimeMillis();
    private final AtomicLong generation = new AtomicLong(1);
    /** Serialises lifecycle changes (reload, drain, shutdown); never taken on the data path. */
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("aegis-housekeeping").daemon(true).factory());
    private volatile AegisConfig config;
    private BackendPool tcpPool;
    private TcpListener tcpListener;
    private ScheduledFuture<?> sweep;
    private volatile boolean draining;

    public Aegis(Path configFile, AegisConfig config) {
        this.configFile = configFile;
        this.config = config;
    }

    /** Binds every listener and starts serving. A bind failure throws and leaves nothing running. */
    public void start() throws IOException {
        lifecycle.lock();
        try {
            ProxyConfig p = config.proxy();
            tcpPool = new BackendPool("tcp", resolve(p.backends()), p.loadBalancing(), p.circuitBreaker());
            if (p.listen().tcp().isPresent()) {
                tcpListener = newTcpListener(p.listen().tcp().get(), config);
                try {
                    tcpListener.start();
                } catch (IOException e) {
                    tcpListener = null;
                    close();
                    throw e;
                }
            }
            scheduleSweep(config);
            log.info("aegis started version={} tcp={} backends={} algorithm={} generation={}",
                    Version.get(), tcpListener == null ? "-" : hostPort(tcpListener.localAddress()),
                    p.backends().size(), p.loadBalancing().algorithm().yamlName(), generation.get());
        } finally {
            lifecycle.unlock();
        }
    }

    private TcpListener newTcpListener(HostPort address, AegisConfig c) {
        TcpListener l = new TcpListener(address.resolve(), tcpPool, TcpSettings.from(c));
        l.setClientHasher(Balancers::hashClient);
        l.setDraining(draining);
        return l;
    }

    /** The outcome of a reload: the new generation, or every error with nothing changed. */
    public record ReloadResult(boolean ok, long generation, List<String> errors, List<String> warnings) {
    }

    /**
     * Re-reads the config file. Invalid: nothing changes and the errors are returned. Valid:
     * pools, algorithm, limits and timeouts change in place (open connections carry on); a
     * changed listen address is bound anew before the old listener is closed.
     */
    public ReloadResult reload() {
        LoadedConfig loaded;
        try {
            loaded = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            List<String> errors = e.errors().stream().map(Object::toString).toList();
            log.warn("reload rejected file={} errors={}", configFile, errors.size());
            return new ReloadResult(false, generation.get(), errors, List.of());
        }
        lifecycle.lock();
        try {
            AegisConfig next = loaded.config();
            ProxyConfig p = next.proxy();
            TcpListener replaced = null;
            Optional<HostPort> oldTcp = config.proxy().listen().tcp();
            if (!p.listen().tcp().equals(oldTcp)) {
                if (p.listen().tcp().isPresent()) {
                    TcpListener fresh = newTcpListener(p.listen().tcp().get(), next);
                    try {
                        fresh.start();
                    } catch (IOException e) {
                        log.warn("reload rejected: {}", e.getMessage());
                        return new ReloadResult(false, generation.get(), List.of("proxy.listen.tcp: " + e.getMessage()), List.of());
                    }
                    replaced = tcpListener;
                    tcpListener = fresh;
                } else {
                    replaced = tcpListener;
                    tcpListener = null;
                }
            }
            List<Backend> removed = tcpPool.reconfigure(resolve(p.backends()), p.loadBalancing(), p.circuitBreaker());
            if (tcpListener != null) {
                tcpListener.reconfigure(TcpSettings.from(next));
            }
            if (replaced != null) {
                replaced.stopAccepting(); // its open connections carry on to their natural end
                retired.add(replaced);
            }
            config = next;
            scheduleSweep(next);
            long gen = generation.incrementAndGet();
            log.info("reloaded generation={} backends={} removed={} algorithm={}",
                    gen, p.backends().size(), removed.size(), p.loadBalancing().algorithm().yamlName());
            return new ReloadResult(true, gen, List.of(), loaded.warnings());
        } finally {
            lifecycle.unlock();
        }
    }

    /** Listeners replaced by a reload whose connections are still finishing (swept until empty). */
    private final List<TcpListener> retired = new java.util.concurrent.CopyOnWriteArrayList<>();

    private void scheduleSweep(AegisConfig c) {
        Duration shortest = c.proxy().traffic().timeout().idle();
        if (c.proxy().traffic().timeout().read().compareTo(shortest) < 0) {
            shortest = c.proxy().traffic().timeout().read();
        }
        long period = Math.clamp(shortest.toMillis() / 4, 10, 250);
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweep = housekeeping.scheduleAtFixedRate(this::sweepOnce, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweepOnce() {
        try {
            TcpListener l = tcpListener;
            if (l != null) {
                l.sweep();
            }
            for (TcpListener old : retired) {
                old.sweep();
                if (old.activeConnections() == 0) {
                    retired.remove(old);
                }
            }
        } catch (RuntimeException e) {
            // a periodic task that throws is never run again: log and carry on
            log.error("sweep failed", e);
        }
    }

    /** Stops (true) or resumes (false) accepting new connections and sessions; open ones carry on. */
    public void setDraining(boolean draining) {
        lifecycle.lock();
        try {
            this.draining = draining;
            if (tcpListener != null) {
                tcpListener.setDraining(draining);
            }
            log.info(draining ? "draining: new connections refused" : "resumed: accepting new connections");
        } finally {
            lifecycle.unlock();
        }
    }

    public boolean draining() {
        return draining;
    }

    /**
     * Graceful shutdown: stop accepting, wait up to {@code shutdown.drain_timeout} for open
     * connections to finish, close the rest.
     */
    public void shutdown() {
        lifecycle.lock();
        try {
            Duration timeout = config.shutdown().drainTimeout();
            log.info("shutting down: draining open connections drain_timeout={}ms active={}",
                    timeout.toMillis(), activeConnections());
            draining = true;
            if (tcpListener != null) {
                tcpListener.stopAccepting();
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (activeConnections() > 0 && System.nanoTime() - deadline < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            int left = activeConnections();
            if (left > 0) {
                log.warn("drain timeout reached, closing connections active={}", left);
            }
            close();
            log.info("stopped");
        } finally {
            lifecycle.unlock();
        }
    }

    /** Closes everything now. */
    @Override
    public void close() {
        housekeeping.shutdownNow();
        if (tcpListener != null) {
            tcpListener.close();
        }
        for (TcpListener old : retired) {
            old.close();
        }
    }

    public int activeConnections() {
        int n = tcpListener == null ? 0 : tcpListener.activeConnections();
        for (TcpListener old : retired) {
            n += old.activeConnections();
        }
        return n;
    }

    public AegisConfig config() {
        return config;
    }

    public Path configFile() {
        return configFile;
    }

    public long generation() {
        return generation.get();
    }

    public long startedAtMillis() {
        return startedAtMillis;
    }

    public Optional<TcpListener> tcpListener() {
        return Optional.ofNullable(tcpListener);
    }

    public BackendPool tcpPool() {
        return tcpPool;
    }

    /** Turns config entries into pool members, resolving hostnames now (at start and reload). */
    private static List<BackendPool.ResolvedBackend> resolve(List<BackendConfig> backends) {
        List<BackendPool.ResolvedBackend> out = new ArrayList<>(backends.size());
        for (BackendConfig b : backends) {
            out.add(new BackendPool.ResolvedBackend(b, b.address().resolve()));
        }
        return out;
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
