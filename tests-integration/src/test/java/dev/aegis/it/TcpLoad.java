package dev.aegis.it;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Steady TCP load: {@code workers} threads, each doing checksummed echo transfers one after the
 * other (random sizes in {@code [minBytes, maxBytes]}) with a pause between, until {@link #stop}
 * or a hard deadline. Bounded in time by construction; every transfer is checked.
 */
final class TcpLoad implements AutoCloseable {

    private final InetSocketAddress proxy;
    private final int workers;
    private final int minBytes;
    private final int maxBytes;
    private final int chunk;
    private final long chunkPauseNanos;
    private final long pauseNanos;
    private final long deadlineNanos;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    /**
     * @param chunkPauseNanos pause between the writes of one transfer (makes transfers long-lived)
     * @param pause           pause between two transfers of a worker
     * @param maxRun          the load stops by itself after this long whatever happens
     */
    TcpLoad(InetSocketAddress proxy, int workers, int minBytes, int maxBytes, int chunk, long chunkPauseNanos,
            Duration pause, Duration maxRun) {
        this.proxy = proxy;
        this.workers = workers;
        this.minBytes = minBytes;
        this.maxBytes = maxBytes;
        this.chunk = chunk;
        this.chunkPauseNanos = chunkPauseNanos;
        this.pauseNanos = pause.toNanos();
        this.deadlineNanos = System.nanoTime() + maxRun.toNanos();
    }

    /** Short request/response transfers: 1..16 KiB each, one write, a few ms apart. */
    static TcpLoad requests(InetSocketAddress proxy, int workers, Duration pause, Duration maxRun) {
        return new TcpLoad(proxy, workers, 1024, 16 * 1024, 16 * 1024, 0, pause, maxRun).start();
    }

    TcpLoad start() {
        for (int w = 0; w < workers; w++) {
            int id = w;
            threads.add(Thread.ofPlatform().daemon().name("it-load-" + w).start(() -> work(id)));
        }
        return this;
    }

    private void work(int id) {
        SplittableRandom random = new SplittableRandom(id * 7919L);
        while (running.get() && System.nanoTime() - deadlineNanos < 0) {
            int size = minBytes + random.nextInt(maxBytes - minBytes + 1);
            Clients.Transfer t = Clients.echo(proxy, random.nextLong(), size, chunk, chunkPauseNanos, false);
            if (t.intact()) {
                ok.incrementAndGet();
                bytes.addAndGet(t.received());
            } else {
                failures.add(t.toString());
            }
            if (pauseNanos > 0) {
                LockSupport.parkNanos(pauseNanos); // load pacing
            }
        }
    }

    /** Stops the workers after their current transfer and waits for them. */
    TcpLoad stop() {
        running.set(false);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return this;
            }
        }
        return this;
    }

    long ok() {
        return ok.get();
    }

    long bytes() {
        return bytes.get();
    }

    List<String> failures() {
        return failures;
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "load[ok=" + ok + " bytes=" + bytes + " failures=" + failures.size()
                + (failures.isEmpty() ? "" : " first=" + failures.get(0)) + "]";
    }
}
