package dev.aegis.metrics;

import com.sun.net.httpserver.HttpServer;
import dev.aegis.control.HttpServers;
import dev.aegis.control.ProxyStatus;
import dev.aegis.config.HostPort;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus metrics of the proxy (SPEC §6), served as Prometheus text or OpenMetrics
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
 *   <li>{@code proxy_backend_connect_duration_seconds{backend}} (histogram, 100 µs to 5 s) and
 *       {@code proxy_config_reloads_total{result="ok"|"failed"}};</li>
 *   <li>{@code proxy_discovery_errors_total{service,name}}: failed, timed-out and empty DNS
 *       discovery answers (SPEC §11);</li>
 *   <li>JVM and process: {@code jvm_memory_*_bytes}, {@code jvm_threads_*}, {@code jvm_gc_*},
 *       {@code process_*}.</li>
 * </ul>
 * Each instance has its own registry (never the client's default one).
 */
public final class ProxyMetrics implements AutoCloseable {

    static {
        HttpServers.applyLimits(); // before the first HttpServer of this JVM exists
    }


    private static final Logger log = LoggerFactory.getLogger(ProxyMetrics.class);

    /** Pending connections the kernel queues before we accept them (the client library's server had 3). */
    private static final int BACKLOG = 64;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private volatile HttpServer server;
    private volatile InetSocketAddress bound;

    /**
     * Registers every metric.
     *
     * @param status         a fresh snapshot of the proxy; the callbacks take one per scrape
     * @param connectLatency the recorder the proxy core was built with
     */
    public ProxyMetrics(Supplier<ProxyStatus> status, ConnectLatency connectLatency) {
        connectLatency.register(registry, status);
        new TrafficMetrics(status, registry);
        new BackendMetrics(status, registry);
        CounterWithCallback.builder()
                .name("proxy_config_reloads_total")
                .help("Configuration reloads by result: ok (applied) or failed (rejected, nothing changed).")
                .labelNames("result")
                .callback(cb -> {
                    ProxyStatus s = status.get();
                    cb.call(s.reloadsOk(), "ok");
                    cb.call(s.reloadsFailed(), "failed");
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_discovery_errors_total")
                .help("DNS discovery answers that failed, timed out or were empty, per service and name "
                        + "(the name's last good set stays in the pool).")
                .labelNames("service", "name")
                .callback(cb -> {
                    for (ProxyStatus.ServiceStatus service : status.get().services()) {
                        service.discoveryErrors().forEach((name, errors) -> cb.call(errors, service.name(), name));
                    }
                })
                .register(registry);
        JvmProcessMetrics.register(registry);
    }

    /**
     * Serves {@code /metrics} on {@code address} (port 0 picks a free port), one virtual thread
     * per request. The JDK's server reads each request on its executor's thread, blocking: a
     * bounded pool was held by two clients that sent half a request and waited (SPEC §5). The
     * client library's {@code HTTPServer} (1.x) takes an executor but not a server of ours, and
     * listens with a backlog of 3, so that a burst of connections waits in SYN-ACK retries; we
     * serve its {@link MetricsHandler} from our own {@link HttpServer} instead. The request time
     * limit (5 s) and the connection cap are the JVM-wide {@code sun.net.httpserver} properties
     * that {@code HttpServers} sets before any server starts.
     *
     * @throws IOException naming the address if it cannot be bound
     */
    public void start(InetSocketAddress address) throws IOException {
        if (address.isUnresolved()) {
            throw new IOException("cannot listen on metrics " + HostPort.format(address)
                    + ": host does not resolve");
        }
        HttpServer s;
        try {
            s = HttpServer.create(address, BACKLOG);
        } catch (IOException e) {
            BindException be = new BindException("cannot listen on metrics " + HostPort.format(address)
                    + ": " + e.getMessage());
            be.initCause(e);
            throw be;
        }
        s.createContext("/metrics", new MetricsHandler(registry));
        HttpServers.start(s, "aegis-metrics-", "metrics");
        server = s;
        bound = new InetSocketAddress(address.getAddress(), s.getAddress().getPort());
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
        HttpServer s = server;
        if (s != null) {
            server = null;
            HttpServers.stop(s);
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }
}
