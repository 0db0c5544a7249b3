package dev.aegis.tcp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where idle connections wait without threads: one {@link Selector} for the whole process, on
 * one platform daemon thread, started with the first connection that parks.
 *
 * <p>A parked connection's pipes have ended their virtual threads (their stacks, ~1.1 KB each,
 * are freed) and its channels are registered here for {@code OP_READ}. The first readiness on
 * either channel (data, a FIN or a reset) hands the connection back to
 * {@link TcpConnection#wake}, which cancels the keys and starts the pipes' threads again: the copy loops resume exactly where they left off.
 *
 * <p>Readiness is level-triggered (epoll): bytes that arrived between a pipe's last read and
 * the registration are reported by the first select after it, so nothing waits unseen.
 *
 * <p>One selector for all listeners: a connection costs it two keys, and a wake-up is two thread
 * starts; a selector per listener would cost a platform thread per service for nothing.
 */
final class Parking {

    private static final Logger log = LoggerFactory.getLogger(Parking.class);

    private static volatile Parking shared;

    private final Selector selector;
    private Thread thread;
    /** Asks for a collection after a wave of parks (see ParkedStacks); null when turned off. */
    private final ParkedStacks stacks = ParkedStacks.ENABLED ? new ParkedStacks(System::nanoTime, Parking::collect) : null;

    private Parking(Selector selector) {
        this.selector = selector;
    }

    /** The process's parking selector, started on first use. */
    static Parking shared() {
        Parking p = shared;
        if (p != null) {
            return p;
        }
        synchronized (Parking.class) { // once per process; no I/O that can block
            if (shared == null) {
                Parking started;
                try {
                    started = new Parking(Selector.open());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                Thread t = Thread.ofPlatform().daemon().name("aegis-parking").stackSize(256 * 1024)
                        .unstarted(started::loop);
                started.thread = t;
                t.start();
                shared = started;
            }
            return shared;
        }
    }

    /**
     * Registers a channel whose reader has stopped, for {@code OP_READ} (it is non-blocking already). The caller calls {@link #wakeup}
     * once it has registered all of a connection's channels.
     *
     * @throws java.nio.channels.CancelledKeyException when the channel's previous key here has not
     *     been flushed yet (the caller then stays awake)
     */
    SelectionKey register(SocketChannel channel, TcpConnection connection) throws IOException {
        channel.configureBlocking(false);
        SelectionKey key = channel.register(selector, SelectionKey.OP_READ, connection);
        if (stacks != null) {
            stacks.parked();
        }
        return key;
    }

    /**
     * Makes the selector pick up new registrations and flush cancelled keys (which also completes
     * the close of a channel closed while it was registered).
     */
    void wakeup() {
        selector.wakeup();
    }

    /** True on the selector's own thread (which selects again right after a wake-up anyway). */
    boolean onSelectorThread() {
        return Thread.currentThread() == thread;
    }

    private void loop() {
        while (true) {
            try {
                if (stacks != null && stacks.waiting()) {
                    selector.select(Parking::ready, ParkedStacks.CHECK_MILLIS);
                    stacks.check();
                } else {
                    selector.select(Parking::ready); // a park wakes it up (TcpConnection#park)
                }
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                log.error("parking selector failed, retrying", e);
            }
        }
    }

    private static void collect() {
        long t0 = System.nanoTime();
        System.gc(); // the serial collector's full collection: frees the parked threads' stacks
        if (log.isDebugEnabled()) {
            log.debug("collected after a wave of parked connections in {} ms",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
    }

    private static void ready(SelectionKey key) {
        try {
            ((TcpConnection) key.attachment()).wake(key);
        } catch (RuntimeException | Error e) {
            key.cancel(); // never spin on a key whose connection cannot take it back
            log.error("waking a parked connection failed", e);
        }
    }
}
