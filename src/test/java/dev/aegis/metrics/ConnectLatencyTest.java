package dev.aegis.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.control.ProxyStatus;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ObjLongConsumer;
import org.junit.jupiter.api.Test;

class ConnectLatencyTest {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ConnectLatency latency = new ConnectLatency(registry);

    {
        latency.service("default"); // as the core does for each service it builds
    }

    private double gauge(String name) {
        for (MetricSnapshot m : registry.scrape()) {
            if (m.getMetadata().getName().equals(name)) {
                return ((GaugeSnapshot) m).getDataPoints().get(0).getValue();
            }
        }
        throw new AssertionError(name + " not registered");
    }

    private void observe(int times, double seconds) {
        for (int i = 0; i < times; i++) {
            latency.service("default").accept("10.0.0.1:80", Math.round(seconds * 1e9));
        }
    }

    @Test
    void reportsZeroBeforeTheFirstConnect() {
        assertEquals(0, gauge("proxy_latency_avg_ms"));
        assertEquals(0, gauge("proxy_latency_p99_ms"));
    }

    @Test
    void averageIsTheSumOverTheCountInMilliseconds() {
        observe(99, 0.0003);
        observe(1, 3);
        assertEquals((99 * 0.3 + 3000) / 100, gauge("proxy_latency_avg_ms"), 1e-6);
    }

    @Test
    void p99InterpolatesLinearlyInsideTheBucketHoldingTheRank() {
        // 99 of 100 in (0.25 ms, 0.5 ms]: rank 99 is the top of that bucket, whatever the slow one did
        observe(99, 0.0003);
        observe(1, 3);
        assertEquals(0.5, gauge("proxy_latency_p99_ms"), 1e-9);
    }

    @Test
    void p99InterpolatesFromTheLowerBound() {
        // 200 in (1 ms, 2.5 ms]: rank 198 of 200 -> 1 + 1.5 * 198 / 200 ms
        observe(200, 0.002);
        assertEquals(1 + 1.5 * 198 / 200, gauge("proxy_latency_p99_ms"), 1e-9);
    }

    @Test
    void p99BeyondTheLastBoundIsTheLastBound() {
        observe(10, 7);
        assertEquals(5000, gauge("proxy_latency_p99_ms"), 1e-9);
    }

    @Test
    void p99CountsEveryBucketBelowTheRank() {
        // 50 in (0, 0.1 ms], 50 in (5 ms, 10 ms]: rank 99 is the 49th of the upper 50
        observe(50, 0.00005);
        observe(50, 0.007);
        assertEquals(5 + 5.0 * 49 / 50, gauge("proxy_latency_p99_ms"), 1e-9);
    }

    @Test
    void eachBackendHasItsSeriesAndTheOriginalGaugesAddThemUp() {
        ObjLongConsumer<String> recorder = latency.service("default");
        for (int i = 0; i < 99; i++) {
            recorder.accept("10.0.0.1:80", 300_000); // 0.3 ms
        }
        recorder.accept("10.0.0.2:80", 3_000_000_000L);
        Map<String, Long> counts = new TreeMap<>();
        for (MetricSnapshot m : registry.scrape()) {
            if (m instanceof HistogramSnapshot h) {
                h.getDataPoints().forEach(d -> counts.put(
                        d.getLabels().get("service") + " " + d.getLabels().get("backend"), d.getCount()));
            }
        }
        assertEquals(Map.of("default 10.0.0.1:80", 99L, "default 10.0.0.2:80", 1L), counts);
        assertEquals((99 * 0.3 + 3000) / 100, gauge("proxy_latency_avg_ms"), 1e-6);
        assertEquals(0.5, gauge("proxy_latency_p99_ms"), 1e-9);
    }

    @Test
    void aForgottenServiceLeavesNoSeries() {
        observe(3, 0.001);
        latency.forget("default");
        for (MetricSnapshot m : registry.scrape()) {
            assertEquals(0, m.getDataPoints().size(), m.getMetadata().getName());
        }
    }

    @Test
    void aConnectRecordedAfterItsServiceWasForgottenLeavesAtTheNextScrape() {
        PrometheusRegistry own = new PrometheusRegistry();
        ConnectLatency pruned = new ConnectLatency();
        // a proxy with no service left: what a scrape sees after the last one was removed
        pruned.register(own, () -> new ProxyStatus("test", 0, false, 1, 0, 0, null, null, List.of()));
        ObjLongConsumer<String> recorder = pruned.service("gone");
        pruned.forget("gone");
        recorder.accept("10.0.0.1:80", 1_000_000); // a connection that outlived its service
        for (MetricSnapshot m : own.scrape()) {
            assertEquals(0, m.getDataPoints().size(), m.getMetadata().getName());
        }
    }
}
