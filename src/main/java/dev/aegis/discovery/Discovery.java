package dev.aegis.discovery;

import dev.aegis.config.BackendConfig;
import dev.aegis.config.DiscoveryConfig;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS discovery of one service (SPEC §11): resolves every name at start and every
 * {@code refresh}, keeps the last good answer of each name, and hands the backends they make to
 * a listener that applies joins and leaves to the pools. The scheduler only dispatches: each
 * refresh runs on a virtual thread of its own and never overlaps the previous one, so a slow or
 * dead DNS server delays nothing else. No lock is held while DNS is asked.
 *
 * <p>Per name: an answer with records replaces its set; a failed, timed-out or empty answer
 * keeps the last good set, counts one error, and is logged once per episode (the first failure
 * at WARN, the recovery at INFO).
 */
public final class Discovery {

    private static final Logger log = LoggerFactory.getLogger(Discovery.class);

    /**
     * One address a name gave. An A/AAAA answer has no port and weight of its own (0 and -1):
     * the config's apply, so that a reload that changes them needs no new lookup.
     */
    record Found(InetAddress address, int port, int weight) {
    }

    /** A name's last good answer, its error count and whether it is failing now. */
    private static final class NameState {
        volatile List<Found> lastGood = List.of();
        final AtomicLong errors = new AtomicLong();
        volatile boolean failing;
    }

    private final String service;
    private final DiscoveryConfig config;
    private final DnsClient dns;
    private final Map<String, NameState> names = new LinkedHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile boolean stopped;
    private volatile ScheduledFuture<?> task;
    private volatile Consumer<Discovery> listener = d -> { };

    /**
     * @param previous the discovery this one replaces (a reload changed the config), or null: the
     *                 last good answers of the names both resolve through the same servers carry
     *                 over, so a reload does not take those backends away until DNS says so
     */
    public Discovery(String service, DiscoveryConfig config, Discovery previous) {
        this.service = service;
        this.config = config;
        // a lookup may take a quarter of the refresh, at most 1 s per try
        this.dns = new DnsClient(config.resolvers(),
                Duration.ofMillis(Math.clamp(config.refresh().toMillis() / 4, 50, 1000)));
        for (String name : config.names()) {
            NameState state = new NameState();
            if (previous != null && previous.config.resolvers().equals(config.resolvers())) {
                NameState old = previous.names.get(name);
                if (old != null) {
                    state.lastGood = old.lastGood;
                    state.errors.set(old.errors.get());
                    state.failing = old.failing;
                }
            }
            names.put(name, state);
        }
    }

    public DiscoveryConfig config() {
        return config;
    }

    /**
     * Resolves now and then every {@code refresh}; after each refresh {@code onRefresh} gets this
     * discovery, whose {@link #backends()} are the new set.
     */
    public void start(ScheduledExecutorService scheduler, Consumer<Discovery> onRefresh) {
        this.listener = onRefresh;
        long period = config.refresh().toMillis();
        task = scheduler.scheduleAtFixedRate(this::dispatch, 0, period, TimeUnit.MILLISECONDS);
    }

    /** No refresh starts from now on (one running finishes, and its result is ignored by the listener). */
    public void stop() {
        stopped = true;
        ScheduledFuture<?> t = task;
        if (t != null) {
            t.cancel(false);
        }
    }

    private void dispatch() {
        if (stopped || !running.compareAndSet(false, true)) {
            return; // the previous refresh still waits for DNS: skip this tick
        }
        Thread.ofVirtual().name("aegis-discovery-" + service).start(() -> {
            try {
                refresh();
                if (!stopped) {
                    listener.accept(this);
                }
            } catch (RuntimeException e) {
                log.error("discovery refresh failed service={}", service, e);
            } finally {
                running.set(false);
            }
        });
    }

    /** Resolves every name once (blocking), updating each name's last good set. Tests call it directly. */
    public void refresh() {
        for (Map.Entry<String, NameState> e : names.entrySet()) {
            String name = e.getKey();
            NameState state = e.getValue();
            String problem;
            List<Found> found = List.of();
            try {
                found = resolve(name);
                problem = found.isEmpty() ? "empty answer" : null;
            } catch (IOException | RuntimeException ex) {
                problem = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            }
            if (problem != null) {
                state.errors.incrementAndGet();
                if (!state.failing) {
                    state.failing = true;
                    log.warn("discovery failed, keeping the last good set service={} name={} kept={} error=\"{}\"",
                            service, name, state.lastGood.size(), problem);
                }
                continue;
            }
            if (state.failing) {
                state.failing = false;
                log.info("discovery recovered service={} name={} addresses={}", service, name, found.size());
            }
            state.lastGood = found;
        }
    }

    private List<Found> resolve(String name) throws IOException {
        List<Found> out = new ArrayList<>();
        if (!DiscoveryConfig.isSrv(name)) {
            for (InetAddress a : dns.addresses(name)) {
                out.add(new Found(a, 0, -1));
            }
            return out;
        }
        for (DnsClient.Srv srv : dns.srv(name)) {
            // RFC 2782: weight 0 is a very small share, not none
            int weight = Math.clamp(srv.weight(), 1, BackendConfig.MAX_WEIGHT);
            for (InetAddress a : dns.addresses(srv.target())) {
                out.add(new Found(a, srv.port(), weight));
            }
        }
        return out;
    }

    /**
     * The backends of the last good answers, in name order, each address once (the first name
     * that gave it decides its weight). Reads memory only.
     */
    public List<BackendConfig> backends() {
        Map<String, BackendConfig> out = new LinkedHashMap<>();
        for (NameState state : names.values()) {
            for (Found f : state.lastGood) {
                int port = f.port() > 0 ? f.port() : config.port();
                int weight = f.weight() >= 0 ? f.weight() : config.weight();
                BackendConfig b = new BackendConfig(new HostPort(literal(f.address()), port), weight, 0,
                        config.healthCheck());
                out.putIfAbsent(b.id(), b);
            }
        }
        return List.copyOf(out.values());
    }

    /** Failed, timed-out and empty answers per name since this name was first discovered. */
    public Map<String, Long> errors() {
        Map<String, Long> out = new LinkedHashMap<>();
        names.forEach((name, state) -> out.put(name, state.errors.get()));
        return out;
    }

    private static String literal(InetAddress a) {
        return HostPort.of(new java.net.InetSocketAddress(a, 1)).host();
    }
}
