package dev.aegis.metrics;

import dev.aegis.Aegis;
import dev.aegis.config.HostPort;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus metrics of one {@link Aegis} (SPEC §6), served as Prometheus text or OpenMetrics
 * on {@code GET /metrics} of {@code admin.metrics_address}. The only class family that knows
 * {@code io.prometheus}.
 *
 * <p>Almost everything is a callback metric that reads the counters the proxy keeps anyway
 * (listener stats, backend counters, reload counters) at scrape time, so the data path gains
 * nothing but one histogram observation per backend connect. Series:
 * <ul>
 *   <li>original names: {@code proxy_active_connections}, {@code proxy_total_connections_total}
 *       (the client appends {@code _total} to counters), {@code proxy_bytes_sent_total},
 *       {@code proxy_bytes_received_total}, {@code proxy_latency_avg_ms}, {@code proxy_latency_p99_ms},
 *       {@code proxy_backend_connections{backend}}, {@code proxy_backend_requests_total{backend}},
 *       {@code proxy_backend_failures_total{backend}};</li>
 *   <li>backends: {@code proxy_backend_healthy{backend,pool}} (1/0) and
 *       {@code proxy_backend_circuit_state{backend,pool}}, a number: 0 closed, 1 half_open, 2 open
 *       (one series per backend, so {@code > 0} alerts on any trouble);</li>
 *   <li>traffic: {@code proxy_rejected_connections_total{protocol,reason}},
 *       {@code proxy_closed_connections_total{reason}}, {@code proxy_draining}, {@code proxy_udp_active_sessions} (a gauge: {@code proxy_udp_sessions}
 *       would clash with the family name of the counter {@code proxy_udp_sessions_total}),
 *       {@code proxy_udp_sessions_total}, {@code proxy_udp_packets_total{direction}},
 *       {@code proxy_udp_bytes_total{direction}}, {@code proxy_udp_dropped_total{reason}};</li>
 *   <li>{@code proxy_backend_connect_duration_seconds} (histogram, 100 µs to 5 s) and
 *       {@code proxy_config_reloads_total{result="ok"|"failed"}};</li>
 *   <li>JVM and process: {@code jvm_memory_*_bytes}, {@code jvm_threads_*}, {@code jvm_gc_*},
 *       {@code process_*}.</li>
 * </ul>
 * Each instance has its own registry (never the client's default one).
 */
public final class ProxyMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyMetrics.class);
    private static final int THREADS = 2;
    private static final int QUEUE = 16;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ConnectLatency connectLatency;
    private final TrafficMetrics traffic;
    private volatile HTTPServer server;
    private volatile InetSocketAddress bound;

    /**
     * Registers every metric and installs {@link #connectLatencyObserver()} on the service of
     * {@code aegis}, for its current TCP listener and every one a reload binds later.
     */
    public ProxyMetrics(Aegis aegis) {
        connectLatency = new ConnectLatency(registry);
        traffic = new TrafficMetrics(aegis, registry);
        new BackendMetrics(aegis.service(), registry);
        CounterWithCallback.builder()
                .name("proxy_config_reloads_total")
                .help("Configuration reloads by result: ok (applied) or failed (rejected, nothing changed).")
                .labelNames("result")
                .callback(cb -> {
                    cb.call(aegis.reloadsOk(), "ok");
                    cb.call(aegis.reloadsFailed(), "failed");
                })
                .register(registry);
        JvmProcessMetrics.register(registry);
        aegis.service().setConnectLatencyObserver(connectLatency);
    }

    /**
     * Serves {@code /metrics} on {@code address} (port 0 picks a free port) with its own two
     * platform threads; a scrape flood beyond a short queue gets its connections closed.
     *
     * @throws IOException naming the address if it cannot be bound
     */
    public void start(InetSocketAddress address) throws IOException {
        traffic.rememberListeners();
        if (address.isUnresolved()) {
            throw new IOException("cannot listen on metrics " + HostPort.format(address)
                    + ": host does not resolve");
        }
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), Thread.ofPlatform().name("aegis-metrics-", 0).daemon(true).factory());
        try {
            server = HTTPServer.builder()
                    .inetAddress(address.getAddress())
                    .port(address.getPort())
                    .registry(registry)
                    .executorService(pool)
                    .buildAndStart();
        } catch (IOException e) {
            pool.shutdownNow();
            BindException be = new BindException("cannot listen on metrics " + HostPort.format(address)
                    + ": " + e.getMessage());
            be.initCause(e);
            throw be;
        }
        bound = new InetSocketAddress(address.getAddress(), server.getPort());
        log.info("metrics listening address={} path=/metrics", HostPort.format(bound));
    }

    /** The bound address, with the real port. @throws IllegalStateException before {@link #start} */
    public InetSocketAddress address() {
        InetSocketAddress a = bound;
        if (a == null) {
            throw new IllegalStateException("metrics server not started");
        }
        return a;
    }

    /** Stops serving. Idempotent; the registry stays readable. */
    @Override
    public void close() {
        HTTPServer s = server;
        if (s != null) {
            server = null;
            s.close(); // also shuts down its executor
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Takes the backend connect time in nanoseconds into the connect histogram. */
    public LongConsumer connectLatencyObserver() {
        return connectLatency;
    }
}
