package dev.aegis.metrics;

import com.sun.management.UnixOperatingSystemMXBean;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * A few JVM and process gauges read from the platform MXBeans at scrape time, named as the
 * Prometheus Java client's own JVM and process collectors name them (that module is not a
 * dependency of Aegis). {@code jvm_threads_*} count platform threads: virtual threads are not
 * threads to the {@link ThreadMXBean}. The {@code process_*_fds} and
 * {@code process_resident_memory_bytes} series exist only where the platform reports them
 * (Unix, and Linux's {@code /proc/self/status}).
 *
 * <p>The MXBeans are looked up at the first scrape, not at start: the JDK's management layer
 * costs ~4 MB of resident memory, which a proxy nobody scrapes need not carry.
 */
final class JvmProcessMetrics {

    private static final Path PROC_STATUS = Path.of("/proc/self/status");

    private JvmProcessMetrics() {
    }

    static void register(PrometheusRegistry registry) {
        GaugeWithCallback.builder()
                .name("jvm_memory_used_bytes")
                .help("Used JVM memory by area (heap, nonheap).")
                .unit(Unit.BYTES)
                .labelNames("area")
                .callback(cb -> {
                    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                    cb.call(memory.getHeapMemoryUsage().getUsed(), "heap");
                    cb.call(memory.getNonHeapMemoryUsage().getUsed(), "nonheap");
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("jvm_memory_committed_bytes")
                .help("Committed JVM memory by area (heap, nonheap).")
                .unit(Unit.BYTES)
                .labelNames("area")
                .callback(cb -> {
                    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                    cb.call(memory.getHeapMemoryUsage().getCommitted(), "heap");
                    cb.call(memory.getNonHeapMemoryUsage().getCommitted(), "nonheap");
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("jvm_memory_max_bytes")
                .help("The most memory the heap may grow to.")
                .unit(Unit.BYTES)
                .labelNames("area")
                .callback(cb -> {
                    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                    if (heap.getMax() >= 0) {
                        cb.call(heap.getMax(), "heap");
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("jvm_threads_current")
                .help("Live platform threads (virtual threads are not counted).")
                .callback(cb -> cb.call(ManagementFactory.getThreadMXBean().getThreadCount()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("jvm_threads_peak")
                .help("The most live platform threads at once since start.")
                .callback(cb -> cb.call(ManagementFactory.getThreadMXBean().getPeakThreadCount()))
                .register(registry);
        registerGc(registry);
        registerProcess(registry);
    }

    private static void registerGc(PrometheusRegistry registry) {
        CounterWithCallback.builder()
                .name("jvm_gc_collections_total")
                .help("Garbage collections per collector.")
                .labelNames("gc")
                .callback(cb -> {
                    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                        if (gc.getCollectionCount() >= 0) {
                            cb.call(gc.getCollectionCount(), gc.getName());
                        }
                    }
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("jvm_gc_collection_seconds_total")
                .help("Time spent in garbage collection per collector.")
                .unit(Unit.SECONDS)
                .labelNames("gc")
                .callback(cb -> {
                    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                        if (gc.getCollectionTime() >= 0) {
                            cb.call(Unit.millisToSeconds(gc.getCollectionTime()), gc.getName());
                        }
                    }
                })
                .register(registry);
    }

    private static void registerProcess(PrometheusRegistry registry) {
        // The com.sun.management interfaces are HotSpot's (every JDK Aegis runs on); where the
        // bean is not one, the series has no sample rather than a made-up one.
        CounterWithCallback.builder()
                .name("process_cpu_seconds_total")
                .help("CPU time used by the process.")
                .unit(Unit.SECONDS)
                .callback(cb -> {
                    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                        long nanos = os.getProcessCpuTime();
                        if (nanos >= 0) {
                            cb.call(Unit.nanosToSeconds(nanos));
                        }
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("process_open_fds")
                .help("Open file descriptors (sockets included).")
                .callback(cb -> {
                    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
                        cb.call(unix.getOpenFileDescriptorCount());
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("process_max_fds")
                .help("The open file descriptor limit.")
                .callback(cb -> {
                    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
                        cb.call(unix.getMaxFileDescriptorCount());
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("process_start_time_seconds")
                .help("Start time of the process since the Unix epoch.")
                .unit(Unit.SECONDS)
                .callback(cb -> cb.call(Unit.millisToSeconds(ManagementFactory.getRuntimeMXBean().getStartTime())))
                .register(registry);
        if (residentBytes().isPresent()) {
            GaugeWithCallback.builder()
                    .name("process_resident_memory_bytes")
                    .help("Resident set size (VmRSS in /proc/self/status).")
                    .unit(Unit.BYTES)
                    .callback(cb -> residentBytes().ifPresent(cb::call))
                    .register(registry);
        }
    }

    /** VmRSS from /proc/self/status, in bytes; empty where that file does not exist or says nothing. */
    static OptionalLong residentBytes() {
        try {
            for (String line : Files.readAllLines(PROC_STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+"); // "123456 kB"
                    return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unexpected format: the series is simply absent
        }
        return OptionalLong.empty();
    }
}
