package dev.aegis.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
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
 */
final class Pipe implements Runnable {

    private final TcpConnection connection;
    private final SocketChannel from;
    private final SocketChannel to;
    private final boolean fromClient;
    private final BufferPool smallBuffers;
    private final BufferPool largeBuffers;
    /** Bytes copied; written only by this pipe's thread, read after it ended (join). */
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

    Pipe(TcpConnection connection, SocketChannel from, SocketChannel to, boolean fromClient,
            BufferPool smallBuffers, BufferPool largeBuffers) {
        this.connection = connection;
        this.from = from;
        this.to = to;
        this.fromClient = fromClient;
        this.smallBuffers = smallBuffers;
        this.largeBuffers = largeBuffers;
        this.progressNanos = System.nanoTime();
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void run() {
        ByteBuffer small = smallBuffers.acquire();
        try {
            copy(small);
            // EOF: pass the FIN on; the other direction keeps flowing until it ends too. When it
            // has ended already, both sockets are closed next and the close sends the FIN: one
            // system call less per connection (both receive sides are at EOF, so no reset).
            if (!connection.finished(fromClient)) {
                shutdownOutput();
            }
            ended = true;
        } catch (ClosedChannelException e) {
            // Closed under us by a timeout, shutdown or the other pipe: the closer set the reason.
        } catch (IOException e) {
            connection.ioFailed(fromClient, e);
        } catch (RuntimeException | Error e) {
            connection.crashed(e);
        } finally {
            smallBuffers.release(small);
        }
    }

    private void copy(ByteBuffer small) throws IOException {
        while (true) {
            small.clear();
            int n = from.read(small);
            if (n < 0) {
                return;
            }
            forward(small, n);
            if (n == small.capacity() && !burst()) {
                return;
            }
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
