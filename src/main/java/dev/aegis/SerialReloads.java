package dev.aegis;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the reloads that SIGHUP asks for one at a time, on one thread. Requests that arrive while
 * one is already waiting to run are that one: a burst of signals is one reload of the newest
 * file, and a signal during a reload gets one more reload after it.
 */
final class SerialReloads implements AutoCloseable {

    private final ExecutorService thread = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("aegis-reload").daemon(true).factory());
    private final AtomicBoolean pending = new AtomicBoolean();
    private final Runnable reload;

    SerialReloads(Runnable reload) {
        this.reload = reload;
    }

    /** Asks for a reload; returns at once (safe from a signal handler). Ignored once closed. */
    void request() {
        if (!pending.compareAndSet(false, true)) {
            return; // one is waiting already: it will read the file as it is then
        }
        try {
            thread.execute(() -> {
                pending.set(false); // a request from now on asks for one more reload
                reload.run();
            });
        } catch (RejectedExecutionException closed) {
            // shutting down: no more reloads
        }
    }

    /** Runs no more reloads; one in progress finishes. */
    @Override
    public void close() {
        thread.shutdown();
    }
}
