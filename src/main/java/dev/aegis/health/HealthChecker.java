package dev.aegis.health;

import dev.aegis.backend.Backend;
import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the active health checks of every backend pool and flips {@link Backend#setHealthy(boolean)}.
 *
 * <h2>Threads</h2>
 * One named platform thread ({@code aegis-health}) owns a {@link java.util.concurrent.ScheduledExecutorService}
 * and only dispatches: at every tick of a backend it starts that backend's probe on a virtual
 * thread ({@code aegis-health-probe-N}), where the blocking socket work happens under the check's
 * own timeout. A tick that finds the previous probe of the same backend still running is skipped,
 * so probes of one backend never overlap, however slow the backend. The first check of each
 * backend comes after a random delay within its interval, so that a hundred backends with the same
 * interval are not all probed in the same millisecond.
 *
 * <h2>Hysteresis</h2>
 * Per backend, consecutive passes and failures are counted. A healthy backend turns unhealthy after
 * {@code unhealthy_threshold} failures in a row, an unhealthy one healthy after
 * {@code healthy_threshold} passes in a row; a backend starts healthy. Each transition is logged
 * once (WARN {@code backend down ...}, INFO {@code backend up ...}) and reported to the
 * {@link HealthListener}; single failed checks are only logged at DEBUG.
 *
 * <h2>Membership</h2>
 * {@link #watch} is called with the full backend list of a pool at start and after every reload or
 * runtime change. Backends are matched by object identity (a reload keeps the {@link Backend}
 * object of an address it keeps): kept backends keep their state and counters, and a changed
 * {@code health_check} (interval, timeout, path, scheme, thresholds) applies from the next check;
 * backends that left stop being checked; backends without {@code health_check} are not checked
 * and, if a check was just removed, are declared healthy again (the SPEC assumes them healthy).
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    /** Shortest interval accepted, so a zero in a hand-built config cannot spin the scheduler. */
    private static final long MIN_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final HealthListener listener;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ExecutorService probes;
    /** Serialises watch() and close(); never taken by ticks or probes. */
    private final ReentrantLock lock = new ReentrantLock();
    /** pool name -> backend -> its watch. Guarded by {@code lock}. */
    private final Map<String, Map<Backend, Watch>> pools = new HashMap<>();
    private volatile boolean closed;

    /** A checker without a listener. */
    public HealthChecker() {
        this(HealthListener.NONE);
    }

    public HealthChecker(HealthListener listener) {
        this.listener = listener;
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "aegis-health");
            t.setDaemon(true);
            return t;
        });
        this.scheduler.setRemoveOnCancelPolicy(true); // reloads cancel watches: do not let them pile up
        this.probes = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("aegis-health-probe-", 0).factory());
    }

    /**
     * Sets the backends of one pool to check: the whole current list, not a difference. An empty
     * list stops checking the pool.
     *
     * @param pool     the pool's name in logs ({@code tcp}, {@code udp})
     * @param udp      true for the UDP pool: a check without {@code path} sends a datagram instead of
     *                 opening a TCP connection
     * @param backends the pool's backends now
     */
    public void watch(String pool, boolean udp, List<Backend> backends) {
        watch(pool, udp, backends, 0);
    }

    /**
     * As {@link #watch(String, boolean, List)}, for a service whose backends may leave their
     * port out (SPEC §9: the port the client reached).
     *
     * @param portlessPort the port a backend without one is checked on: the service's first
     *                     listen port of that protocol
     */
    public void watch(String pool, boolean udp, List<Backend> backends, int portlessPort) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            Map<Backend, Watch> old = pools.getOrDefault(pool, Map.of());
            Map<Backend, Watch> next = new HashMap<>();
            for (Backend backend : backends) {
                if (next.containsKey(backend)) {
                    continue;
                }
                Watch watch = old.get(backend);
                Optional<HealthCheckConfig> check = backend.config().healthCheck();
                if (check.isEmpty()) {
                    if (watch != null) {
                        watch.stop();
                        if (!backend.isHealthy()) {
                            announce(backend, pool, true, "backend up service={} backend={} pool={} reason={}",
                                    quote("health check removed"));
                        }
                    }
                    continue;
                }
                Plan plan = new Plan(check.get(), HealthProbe.of(check.get(), udp), portlessPort);
                if (watch == null) {
                    watch = new Watch(pool, backend, plan);
                    watch.schedule();
                } else if (!watch.plan.equals(plan)) {
                    boolean newInterval = !watch.plan.config().interval().equals(plan.config().interval());
                    watch.plan = plan;
                    if (newInterval) {
                        watch.future.cancel(false);
                        watch.schedule();
                    }
                }
                next.put(backend, watch);
            }
            for (Map.Entry<Backend, Watch> e : old.entrySet()) {
                if (!next.containsKey(e.getKey())) {
                    e.getValue().stop();
                }
            }
            if (next.isEmpty()) {
                pools.remove(pool);
            } else {
                pools.put(pool, next);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops all checks; probes in flight are interrupted and their results dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Map<Backend, Watch> watches : pools.values()) {
                watches.values().forEach(Watch::stop);
            }
            pools.clear();
        } finally {
            lock.unlock();
        }
        scheduler.shutdownNow();
        probes.shutdownNow();
        try {
            scheduler.awaitTermination(1, TimeUnit.SECONDS);
            probes.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Backends checked now, all pools together. */
    int watchedBackends() {
        lock.lock();
        try {
            return pools.values().stream().mapToInt(Map::size).sum();
        } finally {
            lock.unlock();
        }
    }

    /** What one check config means for one backend: the config and the probe built from it. */
    private record Plan(HealthCheckConfig config, HealthProbe probe, int portlessPort) {
    }

    /**
     * The checks of one backend in one pool. States of a watch: scheduled (ticking), and within
     * that idle or probing ({@code running}); stopped is final.
     */
    private final class Watch implements Runnable {

        private final String pool;
        private final Backend backend;
        volatile Plan plan;
        /** Guarded by the checker's lock. */
        ScheduledFuture<?> future;
        private volatile boolean stopped;
        /** Set by the tick that starts a probe, cleared when the probe ends: one probe at a time. */
        private final AtomicBoolean running = new AtomicBoolean();
        // Written only by the probe in flight; the volatile 'running' flag orders successive probes.
        private int passes;
        private int failures;

        Watch(String pool, Backend backend, Plan plan) {
            this.pool = pool;
            this.backend = backend;
            this.plan = plan;
        }

        /** Called under the checker's lock. */
        void schedule() {
            long interval = Math.max(MIN_INTERVAL_NANOS, plan.config().interval().toNanos());
            long firstDelay = ThreadLocalRandom.current().nextLong(interval);
            future = scheduler.scheduleAtFixedRate(this, firstDelay, interval, TimeUnit.NANOSECONDS);
        }

        /** Called under the checker's lock. */
        void stop() {
            stopped = true;
            future.cancel(false);
        }

        /** A tick, on the scheduler thread: dispatch only, never block. */
        @Override
        public void run() {
            try {
                if (stopped || closed || !running.compareAndSet(false, true)) {
                    return; // the previous probe still runs: skip this tick rather than pile up
                }
                try {
                    probes.execute(this::probe);
                } catch (RejectedExecutionException e) {
                    running.set(false); // closing
                }
            } catch (Exception e) {
                // an exception escaping a periodic task would cancel it for good
                log.error("health tick failed service={} backend={} pool={}", serviceOf(pool), backend.id(), poolOf(pool), e);
            }
        }

        /** One check, on its own virtual thread. */
        private void probe() {
            try {
                if (stopped || closed) {
                    return; // stopped between the tick and this thread's start
                }
                Plan p = plan;
                String failure = null;
                try {
                    InetSocketAddress target = backend.address();
                    HostPort written = backend.config().address();
                    if (target.getPort() == 0) {
                        target = target.isUnresolved() ? target : new InetSocketAddress(target.getAddress(), p.portlessPort());
                        written = written.withPort(p.portlessPort());
                    }
                    p.probe().check(written, target, p.config().timeout());
                } catch (IOException e) {
                    failure = reasonOf(e);
                } catch (RuntimeException e) {
                    failure = e.getClass().getSimpleName();
                    log.error("health probe error service={} backend={} pool={}", serviceOf(pool), backend.id(), poolOf(pool), e);
                }
                if (!stopped && !closed) {
                    observe(p.config(), failure);
                }
            } catch (Exception e) {
                log.error("health check failed unexpectedly service={} backend={} pool={}", serviceOf(pool), backend.id(), poolOf(pool), e);
            } finally {
                running.set(false);
            }
        }

        private void observe(HealthCheckConfig config, String failure) {
            if (failure == null) {
                failures = 0;
                passes = passes == Integer.MAX_VALUE ? passes : passes + 1;
                if (!backend.isHealthy() && passes >= Math.max(1, config.healthyThreshold())) {
                    announce(backend, pool, true, "backend up service={} backend={} pool={} passes={}", passes);
                }
                return;
            }
            passes = 0;
            failures = failures == Integer.MAX_VALUE ? failures : failures + 1;
            if (log.isDebugEnabled()) {
                log.debug("health check failed service={} backend={} pool={} reason={} failures={}",
                        serviceOf(pool), backend.id(), poolOf(pool), quote(failure), failures);
            }
            if (backend.isHealthy() && failures >= Math.max(1, config.unhealthyThreshold())) {
                announce(backend, pool, false, "backend down service={} backend={} pool={} reason={} failures={}",
                        quote(failure), failures);
            }
        }
    }

    /** Applies a transition: the backend's flag, one log line, the listener. */
    private void announce(Backend backend, String pool, boolean healthy, String format, Object... details) {
        backend.setHealthy(healthy);
        Object[] args = new Object[details.length + 3];
        args[0] = serviceOf(pool);
        args[1] = backend.id();
        args[2] = poolOf(pool);
        System.arraycopy(details, 0, args, 3, details.length);
        if (healthy) {
            log.info(format, args);
        } else {
            log.warn(format, args);
        }
        try {
            listener.changed(backend, healthy);
        } catch (RuntimeException e) {
            log.error("health listener failed service={} backend={} pool={}", serviceOf(pool), backend.id(), poolOf(pool), e);
        }
    }

    /** The service of a pool key {@code SERVICE/POOL} (a bare pool name: {@code default}). */
    private static String serviceOf(String poolKey) {
        int slash = poolKey.indexOf('/');
        return slash < 0 ? "default" : poolKey.substring(0, slash);
    }

    /** The pool of a pool key {@code SERVICE/POOL}: {@code tcp} or {@code udp}. */
    private static String poolOf(String poolKey) {
        int slash = poolKey.indexOf('/');
        return slash < 0 ? poolKey : poolKey.substring(slash + 1);
    }

    /** A short, stable reason for a failed check, as shown in {@code reason=}. */
    static String reasonOf(IOException e) {
        if (e instanceof PortUnreachableException) {
            return "port unreachable";
        }
        if (e instanceof ConnectException) {
            String m = e.getMessage();
            return m != null && m.toLowerCase(Locale.ROOT).contains("refused")
                    ? "connect refused" : "connect failed: " + m;
        }
        if (e instanceof SocketTimeoutException) {
            return "timeout";
        }
        if (e instanceof NoRouteToHostException) {
            return "no route to host";
        }
        if (e instanceof UnknownHostException) {
            return "unresolved address";
        }
        if (e instanceof SSLException) {
            return "tls: " + e.getMessage();
        }
        if (e instanceof ProbeFailedException) {
            return e.getMessage();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /** A logfmt value in double quotes. */
    static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
