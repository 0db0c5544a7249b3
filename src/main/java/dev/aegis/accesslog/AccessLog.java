package dev.aegis.accesslog;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one line per finished TCP connection and ended UDP session, on stderr in
 * the same format as every other log line ({@code <timestamp> INFO access protocol=...}).
 *
 * <p>Why not slf4j-simple directly: it formats the timestamp with a synchronized
 * {@code SimpleDateFormat} and flushes stderr with one {@code write} per line, which measured
 * 15 % of the proxy's CPU at 8,000 new connections per second. Here a connection only queues its
 * line (no lock held while writing, no syscall on the connection's thread), and one writer thread
 * formats the timestamps and writes whatever has queued up in one {@code write}. When the writer
 * cannot keep up and the queue is full, lines are dropped and counted rather than slowing the
 * proxy (HAProxy's syslog logging behaves the same); the count is reported in the log.
 *
 * <p>Whether to log is {@code logging.access_log} alone, which the callers check: access lines
 * are an output of the proxy, not diagnostics, so {@code logging.level} (even {@code error})
 * does not silence them. They carry the same UTC timestamp and {@code INFO} as slf4j-simple's lines.
 */
public final class AccessLog {

    /** For the writer's own trouble (lines dropped), at the configured level. */
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final int CAPACITY = 65_536;
    private static final int BATCH = 1024;
    /**
     * How long the writer lets lines gather after writing a batch. A writer blocked on the queue
     * is woken by every line: under load that was one context switch per connection, as many as
     * the proxy's own, on a core it shares with the connections.
     */
    private static final long LINGER_MILLIS = 20;
    private static final DateTimeFormatter SECOND =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);

    private record Entry(long epochMillis, String line) {
    }

    private static final ArrayBlockingQueue<Entry> queue = new ArrayBlockingQueue<>(CAPACITY);
    private static final LongAdder dropped = new LongAdder();
    private static final OutputStream out = new FileOutputStream(FileDescriptor.err);

    static {
        Thread.ofPlatform().name("aegis-access-log").daemon(true).start(AccessLog::writeLoop);
    }

    private AccessLog() {
    }

    /** Queues one line (without timestamp and level, e.g. {@code access protocol=tcp ...}). */
    public static void write(String line) {
        if (!queue.offer(new Entry(System.currentTimeMillis(), line))) {
            dropped.increment();
        }
    }

    /** Lines dropped because the writer could not keep up. */
    public static long dropped() {
        return dropped.sum();
    }

    /** Writes everything queued so far; called at shutdown so the last connections are not lost. */
    public static void flush() {
        List<Entry> batch = new ArrayList<>();
        queue.drainTo(batch);
        writeBatch(batch, new StringBuilder(), new long[] {-1}, new String[1]);
    }

    private static void writeLoop() {
        List<Entry> batch = new ArrayList<>(BATCH);
        StringBuilder text = new StringBuilder(BATCH * 160);
        long[] cachedSecond = {-1};
        String[] cachedPrefix = new String[1];
        long reportedDrops = 0;
        while (true) {
            try {
                Entry first = queue.poll(1, TimeUnit.SECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, BATCH - 1);
                    boolean full = batch.size() == BATCH;
                    writeBatch(batch, text, cachedSecond, cachedPrefix);
                    if (!full) {
                        Thread.sleep(LINGER_MILLIS);
                    }
                }
                long drops = dropped.sum();
                if (drops != reportedDrops) {
                    log.warn("access log could not keep up, lines dropped={} total_dropped={}", drops - reportedDrops, drops);
                    reportedDrops = drops;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("access log writer failed", e); // keep writing the next lines
            }
        }
    }

    private static void writeBatch(List<Entry> batch, StringBuilder text, long[] cachedSecond, String[] cachedPrefix) {
        if (batch.isEmpty()) {
            return;
        }
        text.setLength(0);
        for (Entry e : batch) {
            long second = e.epochMillis / 1000;
            if (second != cachedSecond[0]) {
                cachedSecond[0] = second;
                cachedPrefix[0] = SECOND.format(Instant.ofEpochSecond(second));
            }
            int millis = (int) (e.epochMillis % 1000);
            text.append(cachedPrefix[0]).append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10))
                    .append((char) ('0' + millis % 10)).append("Z INFO ").append(e.line).append('\n');
        }
        batch.clear();
        try {
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException ignored) {
            // stderr is gone (closed by the supervisor): nothing left to log to
        }
    }
}
