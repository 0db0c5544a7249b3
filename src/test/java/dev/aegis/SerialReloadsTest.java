package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerialReloadsTest {

    @Test
    void aBurstOfRequestsDuringAReloadRunsOneMoreReloadAfterItOnTheSameThread() throws Exception {
        CountDownLatch firstRunning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger mostAtOnce = new AtomicInteger();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        try (SerialReloads reloads = new SerialReloads(() -> {
            mostAtOnce.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            threads.add(Thread.currentThread());
            if (runs.incrementAndGet() == 1) {
                firstRunning.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            concurrent.decrementAndGet();
        })) {
            reloads.request();
            assertTrue(firstRunning.await(10, TimeUnit.SECONDS));
            for (int i = 0; i < 5; i++) {
                reloads.request(); // SIGHUPs while the first reload runs
            }
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 2 && concurrent.get() == 0);
        }
        assertEquals(2, runs.get(), "the burst is one more reload");
        assertEquals(1, mostAtOnce.get(), "never two at once");
        assertEquals(1, threads.size(), "always the same thread");
    }
}
