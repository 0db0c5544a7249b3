package dev.aegis.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Steady UDP load with session churn: each worker opens a client (a new source port, so a new
 * Aegis session), sends {@code pingsPerClient} numbered pings each waiting for its reply, closes
 * it and starts over, until {@link #stop} or a hard deadline.
 */
final class UdpLoad implements AutoCloseable {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong sessions = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();

    UdpLoad(InetSocketAddress proxy, int workers, int pingsPerClient, Duration pause, Duration maxRun) {
        long deadline = System.nanoTime() + maxRun.toNanos();
        for (int w = 0; w < workers; w++) {
            threads.add(Thread.ofPlatform().daemon().name("it-udp-load-" + w).start(() -> {
                while (running.get() && System.nanoTime() - deadline < 0) {
                    sessions.incrementAndGet();
                    try (UdpClient client = new UdpClient(proxy)) {
                        for (int i = 0; i < pingsPerClient && running.get(); i++) {
                            String payload = "p" + i;
                            client.send(payload);
                            sent.incrementAndGet();
                            String reply = client.receive(1_000);
                            // a late reply to an earlier ping may arrive first: count only our own
                            while (reply != null && !reply.endsWith(":" + payload)) {
                                reply = client.receive(1_000);
                            }
                            if (reply != null) {
                                answered.incrementAndGet();
                            }
                            LockSupport.parkNanos(pause.toNanos()); // load pacing
                        }
                    } catch (IOException e) {
                        // counted as unanswered
                    }
                }
            }));
        }
    }

    void stop() {
        running.set(false);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    long sent() {
        return sent.get();
    }

    long answered() {
        return answered.get();
    }

    long sessions() {
        return sessions.get();
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "udp-load[sessions=" + sessions + " sent=" + sent + " answered=" + answered + "]";
    }
}
