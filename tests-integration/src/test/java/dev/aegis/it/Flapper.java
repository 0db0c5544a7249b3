package dev.aegis.it;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Flaps backends on a schedule: every {@code period}, the next backend of the list changes state
 * (down if it was up, up if it was down), so with two backends each one is down for two periods
 * out of four. Runs on a scheduler until closed, then leaves every backend up.
 */
final class Flapper implements AutoCloseable {

    /** One backend that can go down and come back. */
    interface Flappable {
        void down();

        void up();
    }

    private final List<Flappable> targets;
    private final boolean[] down;
    private final AtomicInteger flips = new AtomicInteger();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("it-flapper").unstarted(r));

    Flapper(List<Flappable> targets, Duration period) {
        this.targets = List.copyOf(targets);
        this.down = new boolean[targets.size()];
        scheduler.scheduleAtFixedRate(this::flip, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    static Flappable of(TcpEchoBackend b) {
        return new Flappable() {
            @Override
            public void down() {
                b.stopListening();
            }

            @Override
            public void up() {
                b.startListening();
            }
        };
    }

    static Flappable of(UdpEchoBackend b) {
        return new Flappable() {
            @Override
            public void down() {
                b.stop();
            }

            @Override
            public void up() {
                b.restart();
            }
        };
    }

    private void flip() {
        int i = flips.get() % targets.size();
        try {
            if (down[i]) {
                targets.get(i).up();
            } else {
                targets.get(i).down();
            }
            down[i] = !down[i];
        } catch (RuntimeException e) {
            // e.g. the port was taken meanwhile: try again next period (a periodic task that throws stops for good)
            System.err.println("flapper: " + e);
        }
        flips.incrementAndGet();
    }

    int flips() {
        return flips.get();
    }

    /** Stops flapping and brings every backend up. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int i = 0; i < targets.size(); i++) {
            if (down[i]) {
                targets.get(i).up();
                down[i] = false;
            }
        }
    }
}
