package dev.aegis.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One UDP client pinging through the proxy every {@code period} until stopped (at most 5 minutes),
 * each ping waiting up to 2 s for its reply: counts pings, answers and the backends that answered.
 */
final class UdpPinger implements AutoCloseable {

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final Set<String> backends = ConcurrentHashMap.newKeySet();
    private volatile boolean running = true;
    private final Thread thread;

    UdpPinger(InetSocketAddress proxy, Duration period) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        thread = Thread.ofPlatform().daemon().name("it-udp-pinger").start(() -> {
            try (UdpClient client = new UdpClient(proxy)) {
                for (long i = 0; running && System.nanoTime() - deadline < 0; i++) {
                    String payload = "ping-" + i;
                    client.send(payload);
                    sent.incrementAndGet();
                    String reply = client.receive(2_000);
                    if (reply != null && reply.endsWith(":" + payload)) {
                        answered.incrementAndGet();
                        backends.add(reply.substring(0, reply.indexOf(':')));
                    }
                    LockSupport.parkNanos(period.toNanos()); // load pacing
                }
            } catch (IOException e) {
                // counted as unanswered
            }
        });
    }

    void stop() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long sent() {
        return sent.get();
    }

    long answered() {
        return answered.get();
    }

    Set<String> backends() {
        return backends;
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "pinger[sent=" + sent + " answered=" + answered + " backends=" + backends + "]";
    }
}
