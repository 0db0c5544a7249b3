package dev.aegis.metrics;

import dev.aegis.control.ProxyStatus;
import dev.aegis.control.ProxyStatus.Backend;
import dev.aegis.traffic.CircuitBreaker;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Per-backend series, read from a fresh {@link ProxyStatus} at scrape time: label values are the backends of the
 * current configuration (bounded by the pool sizes; client addresses never become labels), and a
 * backend removed from the configuration stops being exported.
 *
 * <p>The original's names keep their single {@code backend} label: a backend that sits in both
 * the TCP and the UDP pool (as with a UDP listener and no {@code udp_backends}) is one series
 * summing its TCP connections and UDP sessions. The added series carry {@code backend} and
 * {@code pool} ({@code tcp} or {@code udp}). Every series carries {@code service}.
 */
final class BackendMetrics {

    private final Supplier<ProxyStatus> status;

    BackendMetrics(Supplier<ProxyStatus> status, PrometheusRegistry registry) {
        this.status = status;
        GaugeWithCallback.builder()
                .name("proxy_backend_connections")
                .help("Open TCP connections plus live UDP sessions per backend (original Aegis name).")
                .labelNames("service", "backend")
                .callback(cb -> summed(Backend::activeConnections).forEach((key, v) -> cb.call(v, key.service(), key.backend())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_backend_requests_total")
                .help("TCP connections and UDP sessions sent to each backend (original Aegis name).")
                .labelNames("service", "backend")
                .callback(cb -> summed(Backend::totalConnections).forEach((key, v) -> cb.call(v, key.service(), key.backend())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_backend_failures_total")
                .help("Connect errors, connect timeouts and read timeouts per backend (original Aegis name).")
                .labelNames("service", "backend")
                .callback(cb -> summed(Backend::failedConnections).forEach((key, v) -> cb.call(v, key.service(), key.backend())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_backend_healthy")
                .help("1 if the backend passes its health checks (or has none), else 0.")
                .labelNames("service", "backend", "pool")
                .callback(cb -> forEach((service, pool, b) -> cb.call(b.healthy() ? 1 : 0, service, b.id(), pool)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_backend_circuit_state")
                .help("Circuit breaker state per backend: 0 closed, 1 half_open, 2 open.")
                .labelNames("service", "backend", "pool")
                .callback(cb -> forEach((service, pool, b) -> cb.call(circuitValue(b.circuit()), service, b.id(), pool)))
                .register(registry);
    }

    /** The numeric value of {@code proxy_backend_circuit_state}: 0 closed, 1 half_open, 2 open. */
    static int circuitValue(CircuitBreaker.Phase phase) {
        return switch (phase) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN -> 2;
        };
    }

    private interface PoolVisitor {
        void visit(String service, String pool, Backend backend);
    }

    private void forEach(PoolVisitor visitor) {
        for (ProxyStatus.ServiceStatus service : status.get().services()) {
            for (ProxyStatus.Pool pool : service.pools()) {
                for (Backend b : pool.backends()) {
                    visitor.visit(service.name(), pool.name(), b);
                }
            }
        }
    }

    private record Key(String service, String backend) {
    }

    private Map<Key, Long> summed(ToLongFunction<Backend> value) {
        Map<Key, Long> out = new LinkedHashMap<>();
        forEach((service, pool, b) -> out.merge(new Key(service, b.id()), value.applyAsLong(b), Long::sum));
        return out;
    }
}
