package dev.aegis.metrics;

import dev.aegis.control.ConnectTimes;
import dev.aegis.control.ProxyStatus;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;

/**
 * Backend connect time ("latency" in SPEC §6: the time to establish the backend connection).
 * One classic histogram, {@code proxy_backend_connect_duration_seconds}, observed once per
 * successful connect (a lock-free add per bucket); the original's {@code proxy_latency_avg_ms}
 * and {@code proxy_latency_p99_ms} are gauges computed from it at scrape time, so the data path
 * pays for one observation only. Both are since start and 0 before the first connection. Every
 * series carries the {@code service} and {@code backend} labels (never a client's: the values are
 * bounded by the configured backends); the core asks for one recorder per service. The original's
 * two gauges keep their {@code service} label alone and add up the backends of their service.
 *
 * <p>Each service's recorder keeps the histogram's data point of each backend in a map it asks
 * first with a plain {@code get}, so that a connect allocates nothing once its backend has been
 * seen. A backend that leaves the configuration (reload, discovery, admin API) is dropped at the
 * next scrape, as the per-backend gauges are, so churning backends do not pile up series.
 */
public final class ConnectLatency implements ConnectTimes {

    /** Upper bounds in seconds: 100 µs (loopback) to 5 s (the default connect timeout). */
    static final double[] BUCKETS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

    private final Histogram histogram;
    /** Per service that the core asked for a recorder, its backends' data points, by backend id. */
    private final Map<String, Map<String, DistributionDataPoint>> services = new ConcurrentHashMap<>();

    /**
     * The recorder alone, for the core to be built with; {@link ProxyMetrics} registers it with
     * its gauges.
     */
    public ConnectLatency() {
        histogram = Histogram.builder()
                .name("proxy_backend_connect_duration_seconds")
                .help("Time to establish a backend TCP connection (successful connects only).")
                .unit(Unit.SECONDS)
                .labelNames("service", "backend")
                .classicOnly()
                .classicUpperBounds(BUCKETS)
                .withoutExemplars()
                .build();
    }

    /** For tests: registered, with no backend ever removed. */
    ConnectLatency(PrometheusRegistry registry) {
        this();
        register(registry, () -> null);
    }

    /**
     * Registers the histogram and the original's two gauges computed from it.
     *
     * @param status the proxy's current state, read at each scrape to drop the series of backends
     *               that are gone; null (from a test's supplier) keeps every series
     */
    void register(PrometheusRegistry registry, Supplier<ProxyStatus> status) {
        registry.register(new Pruning(status));
        GaugeWithCallback.builder()
                .name("proxy_latency_avg_ms")
                .help("Average backend connect time in milliseconds since start (original Aegis name).")
                .labelNames("service")
                .callback(cb -> perService().forEach((service, t) ->
                        cb.call(t.count == 0 ? 0 : t.sum / t.count * 1000, service)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_latency_p99_ms")
                .help("99th percentile of the backend connect time in milliseconds since start, "
                        + "interpolated in proxy_backend_connect_duration_seconds (original Aegis name).")
                .labelNames("service")
                .callback(cb -> perService().forEach((service, t) ->
                        cb.call(quantile(BUCKETS, t.buckets, 0.99) * 1000, service)))
                .register(registry);
    }

    /**
     * The recorder of one service: given a backend id and a connect time in nanoseconds. Its
     * {@code proxy_latency_*_ms} series exist from now on, at 0 until the first connect.
     */
    @Override
    public ObjLongConsumer<String> service(String service) {
        Map<String, DistributionDataPoint> points = new ConcurrentHashMap<>();
        services.put(service, points);
        return (backend, nanos) -> {
            DistributionDataPoint point = points.get(backend);
            if (point == null) { // the first connect to this backend: once per backend, not per connect
                point = points.computeIfAbsent(backend, b -> histogram.labelValues(service, b));
            }
            point.observe(nanos / 1e9);
        };
    }

    @Override
    public void forget(String service) {
        Map<String, DistributionDataPoint> points = services.remove(service);
        if (points != null) {
            points.keySet().forEach(backend -> histogram.remove(service, backend));
        }
    }

    /** Drops the series of every backend that no pool of its service lists any more. */
    private void retain(ProxyStatus status) {
        Map<String, Set<String>> current = new LinkedHashMap<>();
        for (ProxyStatus.ServiceStatus s : status.services()) {
            Set<String> ids = current.computeIfAbsent(s.name(), n -> new HashSet<>());
            s.pools().forEach(pool -> pool.backends().forEach(b -> ids.add(b.id())));
        }
        services.forEach((service, points) -> {
            Set<String> ids = current.getOrDefault(service, Set.of());
            points.keySet().removeIf(backend -> {
                if (ids.contains(backend)) {
                    return false;
                }
                histogram.remove(service, backend);
                return true;
            });
        });
        // A connection that outlived its service's removal may still have called the forgotten
        // recorder, which has no map here any more: its series goes by the histogram's own list.
        for (HistogramSnapshot.HistogramDataPointSnapshot d : histogram.collect().getDataPoints()) {
            String service = d.getLabels().get("service");
            if (!services.containsKey(service)) {
                histogram.remove(service, d.getLabels().get("backend"));
            }
        }
    }

    /** The histogram as the registry sees it, pruned before each collection. */
    private final class Pruning implements Collector {
        private final Supplier<ProxyStatus> status;

        Pruning(Supplier<ProxyStatus> status) {
            this.status = status;
        }

        @Override
        public MetricSnapshot collect() {
            ProxyStatus s = status.get();
            if (s != null) {
                retain(s);
            }
            return histogram.collect();
        }

        @Override
        public String getPrometheusName() {
            return histogram.getPrometheusName();
        }

        @Override
        public MetricType getMetricType() {
            return histogram.getMetricType();
        }

        @Override
        public Set<String> getLabelNames() {
            return histogram.getLabelNames();
        }

        @Override
        public MetricMetadata getMetadata() {
            return histogram.getMetadata();
        }
    }

    /** Observations of one service, all its backends added up. */
    private static final class Totals {
        long count;
        double sum;
        final long[] buckets = new long[BUCKETS.length + 1];
    }

    private Map<String, Totals> perService() {
        Map<String, Totals> out = new LinkedHashMap<>();
        services.keySet().forEach(service -> out.put(service, new Totals()));
        for (HistogramSnapshot.HistogramDataPointSnapshot d : histogram.collect().getDataPoints()) {
            Totals t = out.get(d.getLabels().get("service"));
            if (t == null) {
                continue; // forgotten while we read
            }
            t.count += d.getCount();
            t.sum += d.getSum();
            ClassicHistogramBuckets b = d.getClassicBuckets();
            for (int i = 0; i < b.size() && i < t.buckets.length; i++) {
                t.buckets[i] += b.getCount(i);
            }
        }
        return out;
    }

    /** The average connect time of one service in milliseconds, 0 before its first connect. */
    double averageMillis(String service) {
        Totals t = perService().get(service);
        return t == null || t.count == 0 ? 0 : t.sum / t.count * 1000;
    }

    /**
     * The q-quantile of a classic histogram, as Prometheus' {@code histogram_quantile} computes it:
     * linear interpolation inside the bucket that holds the rank (from 0 for the first bucket);
     * a rank in the +Inf bucket gives the largest finite bound. 0 when there is no observation.
     *
     * @param bounds the finite upper bounds, ascending; the +Inf bucket follows them
     * @param counts per-bucket counts (not cumulative), one more than {@code bounds}
     */
    static double quantile(double[] bounds, long[] counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return 0;
        }
        double rank = q * total;
        long below = 0;
        double lower = 0;
        for (int i = 0; i < counts.length; i++) {
            long count = counts[i];
            double upper = i < bounds.length ? bounds[i] : Double.POSITIVE_INFINITY;
            if (count > 0 && below + count >= rank) {
                if (Double.isInfinite(upper)) {
                    return lower;
                }
                return lower + (upper - lower) * (rank - below) / count;
            }
            below += count;
            lower = upper;
        }
        return lower;
    }
}
