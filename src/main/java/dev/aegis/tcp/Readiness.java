package dev.aegis.tcp;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SocketChannel;

/**
 * The JDK's own wait for a channel to become readable or writable ({@code sun.nio.ch.SelChImpl#park}),
 * the wait that a blocking {@code SocketChannel} read or write does inside the JDK: on a virtual
 * thread it registers the descriptor with the JDK's poller and parks the thread. Unlike the
 * blocking read around it, it returns to the caller on {@code LockSupport.unpark} too, so an
 * idle pipe waiting here can be told to park (see {@link Parking}) without a timeout on every
 * read and without closing anything. It reports nothing; callers try their read or write again.
 *
 * <p>Needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the jar's manifest has
 * {@code Add-Exports: java.base/sun.nio.ch}); without it {@link #AVAILABLE} is false and idle
 * parking stays off.
 */
final class Readiness {

    private static final MethodHandle PARK;
    static final int POLLIN;
    static final int POLLOUT;
    static final boolean AVAILABLE;

    static {
        MethodHandle park = null;
        int in = 0;
        int out = 0;
        try {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            Class<?> net = Class.forName("sun.nio.ch.Net");
            park = MethodHandles.lookup() // ours: sees a package exported to this module only
                    .findVirtual(selCh, "park", MethodType.methodType(void.class, int.class))
                    .asType(MethodType.methodType(void.class, SocketChannel.class, int.class));
            in = net.getField("POLLIN").getShort(null);
            out = net.getField("POLLOUT").getShort(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            park = null; // not exported to us: parking stays off
        }
        PARK = park;
        POLLIN = in;
        POLLOUT = out;
        AVAILABLE = park != null;
    }

    private Readiness() {
    }

    /** Waits until {@code ch} is readable ({@link #POLLIN}) or writable ({@link #POLLOUT}), closed, or the thread is unparked. */
    static void await(SocketChannel ch, int event) throws IOException {
        try {
            PARK.invokeExact(ch, event);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
