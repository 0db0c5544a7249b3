package dev.aegis.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;

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

    Pipe(TcpConnection connection, SocketChannel from, SocketChannel to, boolean fromClient,
            BufferPool smallBuffers, BufferPool largeBuffers) {
        this.connection = connection;
        this.from = from;
        this.to = to;
        this.fromClient = fromClient;
        this.smallBuffers = smallBuffers;
        this.largeBuffers = largeBuffers;
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
        connection.moved(fromClient, n);
        buffer.flip();
        while (buffer.hasRemaining()) {
            try {
                to.write(buffer);
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                throw new WriteFailed(e);
            }
        }
        bytes += n;
        connection.throttle(fromClient, n);
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
