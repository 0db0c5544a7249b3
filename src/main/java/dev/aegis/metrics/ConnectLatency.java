package dev.aegis.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.Unit;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import dev.aegis.control.ConnectTimes;
import java.util.function.LongConsumer;

/**
 * Backend connect time ("latency" in SPEC §6: the time to establish the backend connection).
 * One classic histogram, {@code proxy_backend_connect_duration_seconds}, observed once per
 * successful connect (a lock-free add per bucket); the original's {@code proxy_latency_avg_ms}
 * and {@code proxy_latency_p99_ms} are gauges computed from it at scrape time, so the data path
 * pays for one observation only. Both are since start and 0 before the first connection. Every
 * series carries the {@code service} label; the core asks for one recorder per service.
 */
public final class ConnectLatency implements ConnectTimes {

    /** Upper bounds in seconds: 100 µs (loopback) to 5 s (the default connect timeout). */
    static final double[] BUCKETS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

    private final Histogram histogram;

    /**
     * The recorder alone, for the core to be built with; {@link ProxyMetrics} registers it with
     * its gauges.
     */
    public ConnectLatency() {
        histogram = Histogram.builder()
                .name("proxy_backend_connect_duration_seconds")
                .help("Time to establish a backend TCP connection (successful connects only).")
                .unit(Unit.SECONDS)
                .labelNames("service")
                .classicOnly()
                .classicUpperBounds(BUCKETS)
                .withoutExemplars()
                .build();
    }

    ConnectLatency(PrometheusRegistry registry) {
        this();
        register(registry);
    }

    /** Registers the histogram and the original's two gauges computed from it. */
    void register(PrometheusRegistry registry) {
        registry.register(histogram);
        GaugeWithCallback.builder()
                .name("proxy_latency_avg_ms")
                .help("Average backend connect time in milliseconds since start (original Aegis name).")
                .labelNames("service")
                .callback(cb -> histogram.collect().getDataPoints().forEach(d ->
                        cb.call(d.getCount() == 0 ? 0 : d.getSum() / d.getCount() * 1000, d.getLabels().get("service"))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_latency_p99_ms")
                .help("99th percentile of the backend connect time in milliseconds since start, "
                        + "interpolated in proxy_backend_connect_duration_seconds (original Aegis name).")
                .labelNames("service")
                .callback(cb -> histogram.collect().getDataPoints().forEach(d ->
                        cb.call(quantile(d.getClassicBuckets(), 0.99) * 1000, d.getLabels().get("service"))))
                .register(registry);
    }

    /** The recorder of one service: its series exists from now on, with 0 observations. */
    @Override
    public LongConsumer service(String service) {
        DistributionDataPoint point = histogram.labelValues(service);
        return nanos -> point.observe(nanos / 1e9);
    }

    @Override
    public void forget(String service) {
        histogram.remove(service);
    }

    /** The average connect time of one service in milliseconds, 0 before its first connect. */
    double averageMillis(String service) {
        return histogram.collect().getDataPoints().stream()
                .filter(d -> service.equals(d.getLabels().get("service")))
                .mapToDouble(d -> d.getCount() == 0 ? 0 : d.getSum() / d.getCount() * 1000)
                .findFirst().orElse(0);
    }

    /**
     * The q-quantile of a classic histogram, as Prometheus' {@code histogram_quantile} computes it:
     * linear interpolation inside the bucket that holds the rank (from 0 for the first bucket);
     * a rank in the +Inf bucket gives the largest finite bound. 0 when there is no observation.
     *
     * @param buckets per-bucket counts (not cumulative), ascending upper bounds ending with +Inf
     */
    static double quantile(ClassicHistogramBuckets buckets, double q) {
        long total = 0;
        for (int i = 0; i < buckets.size(); i++) {
            total += buckets.getCount(i);
        }
        if (total == 0) {
            return 0;
        }
        double rank = q * total;
        long below = 0;
        double lower = 0;
        for (int i = 0; i < buckets.size(); i++) {
            long count = buckets.getCount(i);
            double upper = buckets.getUpperBound(i);
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
