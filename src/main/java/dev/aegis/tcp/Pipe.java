package dev.aegis.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
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
 * <p>Idle parking: the wait for data is a read with a timeout (the socket adaptor's stream, which
 * times out without closing the channel). When it times out, the pipe asks its connection
 * ({@link TcpConnection#idle}) whether the other direction is idle too; if so both hand their
 * channels to the {@link Parking} selector and their threads end. The two directions' timed
 * reads end at the same instant ({@link #waitDeadline}, see {@link #prepareWait}), so the first
 * one out waits only as long as the scheduler takes to run the second. A wake-up starts
 * {@link #run} again on a new thread; nothing but the thread and the wait buffer is lost.
 * The wait buffer is a heap array (the timed read takes one; the JDK copies through its
 * per-carrier direct buffer), allocated when the thread starts and dropped when it parks.
 */
final class Pipe implements Runnable {

    private final TcpConnection connection;
    final SocketChannel from;
    private final SocketChannel to;
    private final boolean fromClient;
    private final BufferPool smallBuffers;
    private final BufferPool largeBuffers;
    /** How long a wait lasts before the pipe offers to park; 0 = never park. */
    private final long parkAfterNanos;
    /** The other direction of the same connection. */
    private Pipe other;
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
    /** Its timed read timed out; waiting (thread alive, out of its read) for the other to join. */
    static final int WAITING = 1;
    /** Thread ended, {@link #from} registered with the parking selector ({@link #key}). */
    static final int PARKED = 2;
    /** Thread ended for good: EOF, error or close. */
    static final int ENDED = 3;
    /** One of the four above; changed under the connection's lock, read without it. */
    volatile int state;
    /** The parking selector's key while {@link #PARKED}; under the connection's lock. */
    SelectionKey key;
    /**
     * When the current timed read times out (System.nanoTime); in the past when not in one.
     * The other direction reads it to time out at the same instant (written by this pipe's thread only).
     */
    volatile long waitDeadline;

    Pipe(TcpConnection connection, SocketChannel from, SocketChannel to, boolean fromClient,
            BufferPool smallBuffers, BufferPool largeBuffers, long parkAfterNanos) {
        this.connection = connection;
        this.smallBuffers = smallBuffers;
        this.from = from;
        this.to = to;
        this.fromClient = fromClient;
        this.largeBuffers = largeBuffers;
        this.parkAfterNanos = parkAfterNanos;
        this.progressNanos = System.nanoTime();
        this.waitDeadline = progressNanos;
    }

    /** Pairs the two directions of a connection (once, before either runs). */
    static void pair(Pipe a, Pipe b) {
        a.other = b;
        b.other = a;
    }

    Pipe other() {
        return other;
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
            parked = parkAfterNanos > 0 ? copyOrPark() : copy();
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
        ByteBuffer small = smallBuffers.acquire();
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
            smallBuffers.release(small);
        }
    }

    /**
     * The copy loop with idle parking: waits in a timed read.
     *
     * @return true when the connection parked (this thread ends, the pipe lives on); false on EOF
     */
    private boolean copyOrPark() throws IOException {
        InputStream in = input();
        if (in == null) {
            return false; // input shut down while parked (max_lifetime): end of stream
        }
        Socket socket = from.socket();
        ByteBuffer small = ByteBuffer.allocate(TcpListener.SMALL_BUFFER);
        byte[] array = small.array();
        while (true) {
            int n;
            try {
                prepareWait(socket);
                n = in.read(array, 0, array.length);
            } catch (SocketTimeoutException e) {
                if (connection.idle(this)) {
                    return true;
                }
                continue;
            }
            if (n < 0) {
                return false;
            }
            small.clear().position(n);
            forward(small, n);
            if (n == array.length && !burst()) {
                return false;
            }
        }
    }

    /** The channel's blocking stream (it honours SO_TIMEOUT); null when its input is shut down. */
    private InputStream input() throws IOException {
        try {
            return from.socket().getInputStream();
        } catch (SocketException e) {
            if (!from.isOpen()) {
                throw new ClosedChannelException();
            }
            if (from.socket().isInputShutdown()) {
                return null;
            }
            throw e;
        }
    }

    /**
     * Sets the timeout of the next wait. The two directions of a connection end their waits at
     * the same instant: when the other direction's wait ends between half a period and a period
     * from now, this one ends with it; otherwise it ends one period from now (and the other
     * direction joins this one at its next wait). So after one round of timeouts both are out of
     * their reads together, and the first waits for the second for no longer than it takes to be
     * scheduled. Each direction waits at least half a period before it can park.
     *
     * <p>Also lets the other direction go on when it waits to park: this one is about to wait
     * for data, but it just moved some, so the connection is not idle.
     */
    private void prepareWait(Socket socket) throws IOException {
        Pipe o = other;
        if (o.state == WAITING) {
            connection.stopWaiting(o);
        }
        if (parkAfterNanos <= 0) {
            return;
        }
        long now = System.nanoTime();
        long deadline = now + parkAfterNanos;
        long theirs = o.waitDeadline - now;
        if (theirs >= parkAfterNanos / 2 && theirs <= parkAfterNanos) {
            deadline = now + theirs;
        }
        waitDeadline = deadline;
        try {
            socket.setSoTimeout((int) Math.max(1, (deadline - now + 999_999) / 1_000_000));
        } catch (SocketException e) {
            if (!from.isOpen()) {
                throw new ClosedChannelException();
            }
            throw e;
        }
    }

    /** Copies with a large buffer while reads keep filling it. @return false on EOF */
    private boolean burst() throws IOException {
        ByteBuffer large = largeBuffers.acquire();
        try {
            while (true) {
                large.clear();
                int n = from.read(large);
                if (n < 0) {
                    return false;
                }
                forward(large, n);
                if (n < large.capacity()) {
                    return true;
                }
            }
        } finally {
            largeBuffers.release(large);
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
            to.write(buffer);
            while (buffer.hasRemaining()) {
                progressNanos = System.nanoTime(); // the receiver took a step
                to.write(buffer);
            }
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            throw new WriteFailed(e);
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
     * A bandwidth-shaping pause: the connection is busy until it ends, so the progress stamp is
     * set to its end before parking (the sweeper sees a time in the future: not idle, no read
     * timeout). An early wake-up parks again for the rest.
     */
    private void pause(long delay) {
        long end = System.nanoTime() + delay;
        progressNanos = end;
        for (long left = delay; left > 0; left = end - System.nanoTime()) {
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
