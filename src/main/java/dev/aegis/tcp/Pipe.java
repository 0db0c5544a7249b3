package dev.aegis.tcp;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * One direction of a proxied connection: a blocking copy loop on its own virtual thread.
 *
 * <p>Memory: an idle connection should not pin big buffers. The loop waits for data with a
 * read into a small buffer; only when that read fills it (more is probably queued) does it
 * borrow a large buffer from the pool, and it gives the large buffer back as soon as a read
 * returns less than a full buffer (the socket was drained at that moment). Keep-alive
 * request/response traffic of a few hundred bytes never touches the large pool.
 *
 * <p>Backpressure needs no code: a blocking write does not return until the kernel took the
 * bytes, and we do not read again before that.
 *
 * <p>Timeouts: the pipe publishes its progress for the sweeper in two fields that only its own
 * thread writes (so the two directions never overwrite each other's stamps):
 * {@link #progressNanos} is stamped when a read returns bytes, after every write step that moved
 * bytes, and set ahead to the end of a bandwidth-shaping pause; {@link #writing} is true while a
 * write waits for a receiver that takes bytes slowly. The kernel wakes a blocked writer only
 * after a large part of its send buffer has drained (measured on loopback: the buffer autotunes
 * to 2 MB and a blocked write returns about every 1 MB, which a 16 KB/s reader needs a minute
 * for), so write steps alone are too coarse to prove that the receiver is alive: a pipe inside a
 * blocked write counts as active, from the first write of a chunk on. The fast path (the first
 * write takes the whole buffer) costs one clock read and three stores per read, no system call.
 *
 * <p>Idle parking (when on): the channels are non-blocking and the pipe waits for readiness
 * itself with the JDK's own wait ({@link Readiness}), which an unpark interrupts without closing
 * anything. The sweeper, which sees from the progress stamps that both directions have been idle
 * long enough, asks the connection to park and unparks both pipes; each finds nothing to read and
 * offers to park ({@link TcpConnection#idle}); when both have, their channels go to the
 * {@link Parking} selector and their threads end. A wake-up starts {@link #run} again on a new
 * thread; nothing but the thread (and the pooled wait buffer, given back) is lost.
 */
final class Pipe implements Runnable {

    private final TcpConnection connection;
    final SocketChannel from;
    private final SocketChannel to;
    private final boolean fromClient;
    /**
     * Idle parking on: the channels are non-blocking and the pipe waits itself ({@link #copyOrPark}).
     * (The buffer pools are the listener's, reached through the connection: fewer fields in a
     * pipe, which an idle connection keeps two of.)
     */
    private final boolean parking;
    /** The other direction of the same connection. */
    private Pipe other;
    /**
     * Bytes to write to {@link #to} before anything read (the PROXY header), or null: with the
     * first bytes read in one write when they are there at once, else alone before the
     * pipe waits (a protocol whose server speaks first must get its header without the client
     * having said anything). Only this pipe's thread touches it.
     */
    private ByteBuffer prefix;
    /** Bytes copied; written by whichever thread runs this pipe, read once both pipes ended. */
    private long bytes;
    /**
     * Last time this direction moved bytes (read, write step) or, during a shaping pause, when
     * the pause ends. Written only by this pipe's thread; read by the sweeper.
     */
    volatile long progressNanos;
    /** True while a write waits for the receiver to take more bytes. Written only by this pipe's thread. */
    volatile boolean writing;
    /** This direction ended normally: its EOF was read and passed on (or the close will pass it on). */
    volatile boolean ended;

    static final int RUNNING = 0;
    /** Asked to park and found nothing to read; waiting (thread alive, out of its wait for data) for the other to join. */
    static final int WAITING = 1;
    /** Thread ended, {@link #from} registered with the parking selector ({@link #key}). */
    static final int PARKED = 2;
    /** Thread ended for good: EOF, error or close. */
    static final int ENDED = 3;
    /** One of the four above; changed under the connection's lock, read without it. */
    volatile int state;
    /** The parking selector's key while {@link #PARKED}; under the connection's lock. */
    SelectionKey key;
    /** The thread running this pipe now (parking on only), for the sweeper's and the closers' unpark. */
    volatile Thread thread;
    private static final VarHandle THREAD;

    static {
        try {
            THREAD = MethodHandles.lookup().findVarHandle(Pipe.class, "thread", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    Pipe(TcpConnection connection, SocketChannel from, SocketChannel to, boolean fromClient,
            boolean parking) {
        this.connection = connection;
        this.from = from;
        this.to = to;
        this.fromClient = fromClient;
        this.parking = parking;
        this.progressNanos = System.nanoTime();
    }

    /** Pairs the two directions of a connection (once, before either runs). */
    static void pair(Pipe a, Pipe b) {
        a.other = b;
        b.other = a;
    }

    Pipe other() {
        return other;
    }

    /** Sets the bytes written first ({@link #prefix}); before the pipe runs. */
    void prefix(ByteBuffer bytes) {
        prefix = bytes;
    }

    boolean fromClient() {
        return fromClient;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void run() {
        boolean parked = false;
        try {
            parked = parking ? copyOrPark() : copy();
            if (!parked) {
                // EOF: pass the FIN on; the other direction keeps flowing until it ends too. When it
                // has ended already, both sockets are closed next and the close sends the FIN: one
                // system call less per connection (both receive sides are at EOF, so no reset).
                if (!connection.finished(fromClient)) {
                    shutdownOutput();
                }
                ended = true;
            }
        } catch (ClosedChannelException e) {
            // Closed under us by a timeout, shutdown or the other pipe: the closer set the reason.
        } catch (IOException e) {
            connection.ioFailed(fromClient, e);
        } catch (RuntimeException | Error e) {
            connection.crashed(e);
        } finally {
            connection.pipeExited(this, parked);
        }
    }

    /**
     * The copy loop without parking (the default): waits in the channel's own blocking read, with
     * a pooled direct buffer, so a small read costs no copy and no timer.
     *
     * @return false (EOF)
     */
    private boolean copy() throws IOException {
        if (prefix != null) {
            writePrefix(); // a blocking read may wait for ever: the backend must not wait for it
        }
        ByteBuffer small = connection.smallBuffers().acquire();
        try {
            while (true) {
                small.clear();
                int n = from.read(small);
                if (n < 0) {
                    return false;
                }
                forward(small, n);
                if (n == small.capacity() && !burst()) {
                    return false;
                }
            }
        } finally {
            connection.smallBuffers().release(small);
        }
    }

    /**
     * The copy loop with idle parking: the channels are in non-blocking mode and the pipe waits
     * itself, in the JDK's own wait for readability ({@link Readiness}), the same wait a blocking
     * read does inside the JDK, so the hot path costs what it did. The difference: an unpark
     * returns the wait to this loop, which is how the sweeper asks an idle connection to park
     * ({@link TcpConnection#requestPark}) and how a closer makes the pipe see its close.
     *
     * @return true when the connection parked (this thread ends, the pipe lives on); false on EOF
     */
    private boolean copyOrPark() throws IOException {
        Thread me = Thread.currentThread();
        thread = me;
        ByteBuffer small = connection.smallBuffers().acquire();
        try {
            while (true) {
                if (connection.closing()) {
                    throw new ClosedChannelException(); // closed by a timeout, shutdown or the other pipe
                }
                small.clear();
                int n = prefix == null ? from.read(small) : readAfterPrefix(small);
                if (n == 0) {
                    if (connection.parkRequested() && connection.idle(this)) {
                        return true;
                    }
                    Readiness.await(from, Readiness.POLLIN);
                    continue;
                }
                if (n < 0) {
                    return false;
                }
                if (connection.parkRequested() || other.state == WAITING) {
                    connection.stayAwake(); // bytes moved: not idle after all
                }
                forward(small, n);
                if (n == small.capacity() && !burst()) {
                    return false;
                }
            }
        } finally {
            THREAD.compareAndSet(this, me, null); // a wake-up may have started this pipe's next thread already
            connection.smallBuffers().release(small);
        }
    }

    /** Copies with a large buffer while reads keep filling it. @return false on EOF */
    private boolean burst() throws IOException {
        ByteBuffer large = connection.largeBuffers().acquire();
        try {
            while (true) {
                large.clear();
                int n = from.read(large);
                if (n < 0) {
                    return false;
                }
                if (n == 0) {
                    return true; // non-blocking (parking on): drained; the caller waits
                }
                forward(large, n);
                if (n < large.capacity()) {
                    return true;
                }
            }
        } finally {
            connection.largeBuffers().release(large);
        }
    }

    private void forward(ByteBuffer buffer, int n) throws IOException {
        progressNanos = System.nanoTime();
        connection.moved(fromClient, n);
        buffer.flip();
        // A write that waits for the receiver counts as activity from its first byte: a blocked
        // first write (the send buffer full from the previous chunk) can wait as long as any later one.
        writing = true;
        try {
            writeAll(buffer);
        } finally {
            writing = false;
        }
        bytes += n;
        long delay = connection.throttleDelay(fromClient, n);
        if (delay > 0) {
            pause(delay);
        }
    }

    /**
     * Writes all of buffer, waiting for room as a blocking write would when the channel is
     * non-blocking. A failure is the receiver's ({@link WriteFailed}); a close stays a close.
     */
    private void writeAll(ByteBuffer buffer) throws IOException {
        try {
            int w = to.write(buffer);
            while (buffer.hasRemaining()) {
                awaitRoom(w);
                w = to.write(buffer);
            }
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            throw new WriteFailed(e);
        }
    }

    private void awaitRoom(int written) throws IOException {
        if (written == 0) {
            // non-blocking (parking on) and the send buffer is full: wait as a blocking write would
            Readiness.await(to, Readiness.POLLOUT);
            if (connection.closing()) {
                throw new ClosedChannelException();
            }
        } else {
            progressNanos = System.nanoTime(); // the receiver took a step
        }
    }

    /** Writes {@link #prefix} alone. */
    private void writePrefix() throws IOException {
        writeAll(prefix);
        prefix = null;
    }

    /**
     * The first read of a pipe with a {@link #prefix}: reads into {@code buffer} after the prefix,
     * so that a read that finds bytes leaves prefix and bytes in the buffer, for one write by
     * {@link #forward} (one segment: the backend reads header and request together). A read that
     * finds nothing yet (or the EOF) writes the prefix alone at once.
     *
     * @return what the read returned: the client's bytes in the buffer, after the prefix
     */
    private int readAfterPrefix(ByteBuffer buffer) throws IOException {
        if (prefix.remaining() > buffer.capacity() / 2) { // leave room for a useful read
            writePrefix();
            return from.read(buffer);
        }
        buffer.put(prefix);
        int n = from.read(buffer);
        if (n > 0) {
            prefix = null;
            return n;
        }
        prefix.rewind();
        buffer.clear();
        writePrefix();
        return n;
    }

    /**
     * A bandwidth-shaping pause: the connection is busy until it ends, so the progress stamp is
     * set to its end before parking (the sweeper sees a time in the future: not idle, no read
     * timeout). An early wake-up parks again for the rest.
     */
    private void pause(long delay) {
        long end = System.nanoTime() + delay;
        progressNanos = end;
        for (long left = delay; left > 0 && !connection.closing(); left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private void shutdownOutput() {
        try {
            to.shutdownOutput();
        } catch (IOException ignored) {
            // the peer is gone already; the connection ends anyway
        }
    }

    /** A write failed: the fault is on the receiving side, not the side we read from. */
    static final class WriteFailed extends IOException {
        WriteFailed(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
