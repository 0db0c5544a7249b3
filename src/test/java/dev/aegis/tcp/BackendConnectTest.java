package dev.aegis.tcp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;

/** The backend connect on a virtual thread, as connections make it: connected, refused, timed out. */
class BackendConnectTest {

    private static final ExecutorService VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    private static <T> T onVirtualThread(Callable<T> task) throws Exception {
        try {
            return VIRTUAL.submit(task).get();
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void connectsAndLeavesABlockingChannelThatMovesBytes() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = (InetSocketAddress) server.getLocalSocketAddress();
            String echoed = onVirtualThread(() -> {
                try (SocketChannel ch = SocketChannel.open(TcpListener.familyOf(address))) {
                    BackendConnect.connect(ch, address, Duration.ofSeconds(5).toNanos());
                    assertTrue(ch.isConnected());
                    assertTrue(ch.isBlocking(), "the pipes use blocking reads and writes");
                    try (Socket peer = server.accept()) {
                        ch.write(ByteBuffer.wrap(new byte[] {'h', 'i'}));
                        byte[] got = peer.getInputStream().readNBytes(2);
                        peer.getOutputStream().write(got);
                        ByteBuffer back = ByteBuffer.allocate(2);
                        while (back.hasRemaining() && ch.read(back) >= 0) {
                            // a blocking read: waits for the echo
                        }
                        return new String(back.array(), java.nio.charset.StandardCharsets.US_ASCII);
                    }
                }
            });
            assertEquals("hi", echoed);
        }
    }

    @Test
    void aRefusedConnectThrowsAndClosesTheChannel() throws Exception {
        InetSocketAddress closed;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            closed = (InetSocketAddress) s.getLocalSocketAddress();
        }
        SocketChannel ch = SocketChannel.open(TcpListener.familyOf(closed));
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> onVirtualThread(() -> {
            BackendConnect.connect(ch, closed, Duration.ofSeconds(5).toNanos());
            return null;
        }));
        assertInstanceOf(ConnectException.class, e);
        assertFalse(ch.isOpen());
    }

    /**
     * A listener whose accept queue is full drops new SYNs (Linux), so the connect never
     * completes: the deadline must end it as a timeout, which the access log calls "connect timeout".
     */
    @Test
    void aConnectThatDoesNotCompleteTimesOutAtTheDeadline() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = (InetSocketAddress) server.getLocalSocketAddress();
            List<Socket> fill = new ArrayList<>();
            try {
                fillAcceptQueue(address, fill);
                SocketChannel ch = SocketChannel.open(TcpListener.familyOf(address));
                long t0 = System.nanoTime();
                Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> onVirtualThread(() -> {
                    BackendConnect.connect(ch, address, Duration.ofMillis(200).toNanos());
                    return null;
                }));
                assertInstanceOf(SocketTimeoutException.class, e);
                assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(200).toNanos(), "not before the deadline");
                assertFalse(ch.isOpen());
            } finally {
                for (Socket s : fill) {
                    s.close();
                }
            }
        }
    }

    /** Through the proxy: a backend that never completes the handshake is a failed connect, counted against it. */
    @Test
    void aProxiedConnectionToABackendThatDoesNotAnswerTheHandshakeFailsAtTheConnectTimeout() throws Exception {
        TcpSettings s = new TcpSettings(Duration.ofMillis(200), Duration.ofSeconds(60), Duration.ofSeconds(30), 0, 0, 0, false);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = (InetSocketAddress) server.getLocalSocketAddress();
            List<Socket> fill = new ArrayList<>();
            try (var proxy = new ProxyFixture(s, List.of(address))) {
                fillAcceptQueue(address, fill);
                try (Socket client = proxy.connect()) {
                    assertEquals(-1, client.getInputStream().read(), "the client is closed once the connect timed out");
                }
                await().until(() -> proxy.listener.stats().closed(CloseReason.CONNECT_FAILED) == 1);
                assertEquals(1, proxy.pool.current().backends().get(0).failedConnections());
            } finally {
                for (Socket f : fill) {
                    f.close();
                }
            }
        }
    }

    /** Connects until a connect hangs: the accept queue (backlog 1) is then full. */
    private static void fillAcceptQueue(InetSocketAddress address, List<Socket> fill) throws IOException {
        for (int i = 0; i < 16; i++) {
            Socket s = new Socket();
            try {
                s.connect(address, 300);
                fill.add(s);
            } catch (SocketTimeoutException e) {
                s.close();
                return;
            }
        }
        throw new IllegalStateException("the accept queue never filled");
    }
}
