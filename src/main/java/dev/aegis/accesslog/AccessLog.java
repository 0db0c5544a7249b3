package dev.aegis.accesslog;

import dev.aegis.logging.UtcTimestamp;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
 * <p>Why not a logger call per line: that is a {@code write} system call on the connection's
 * thread for every connection (slf4j-simple, used at first, measured 15 % of the proxy's CPU at
 * 8,000 new connections per second, with its synchronized date format). Here a connection only queues its
 * line (no lock held while writing, no syscall on the connection's thread), and one writer thread
 * formats the timestamps and writes whatever has queued up in one {@code write}. When the writer
 * cannot keep up and the queue is full, lines are dropped and counted rather than slowing the
 * proxy (HAProxy's syslog logging behaves the same); the count is reported in the log.
 *
 * <p>Whether to log follows the {@code dev.aegis.access} slf4j logger (INFO enabled) and
 * {@code logging.access_log}, which the callers check.
 */
public final class AccessLog {

    private static final Logger log = LoggerFactory.getLogger("dev.aegis.access");
    private static final int CAPACITY = 65_536;
    private static final int BATCH = 1024;
    /**
     * How long the writer lets lines gather after writing a batch. A writer blocked on the queue
     * is woken by every line: under load that was one context switch per connection, as many as
     * the proxy's own, on a core it shares with the connections.
     */
    private static final long LINGER_MILLIS = 20;

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

    /** True when access lines are wanted at all (the slf4j level of {@code dev.aegis.access}). */
    public static boolean enabled() {
        return log.isInfoEnabled();
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
        writeBatch(batch, new StringBuilder());
    }

    private static void writeLoop() {
        List<Entry> batch = new ArrayList<>(BATCH);
        StringBuilder text = new StringBuilder(BATCH * 160);
        long reportedDrops = 0;
        while (true) {
            try {
                Entry first = queue.poll(1, TimeUnit.SECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, BATCH - 1);
                    boolean full = batch.size() == BATCH;
                    writeBatch(batch, text);
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

    private static void writeBatch(List<Entry> batch, StringBuilder text) {
        if (batch.isEmpty()) {
            return;
        }
        text.setLength(0);
        for (Entry e : batch) {
            UtcTimestamp.append(text, e.epochMillis).append(" INFO ").append(e.line).append('\n');
        }
        batch.clear();
        try {
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException ignored) {
            // stderr is gone (closed by the supervisor): nothing left to log to
        }
    }
}
