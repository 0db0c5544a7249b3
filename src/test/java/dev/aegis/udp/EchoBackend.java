package dev.aegis.udp;

import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A UDP echo server on loopback for tests. With a name it answers {@code name + ":" + payload}
 * so a test sees which backend answered; without one it echoes the bytes unchanged.
 */
final class EchoBackend implements AutoCloseable {

    private final String name;
    private final DatagramChannel channel;
    private final InetSocketAddress address;
    private final Thread thread;
    private final AtomicInteger received = new AtomicInteger();

    private EchoBackend(String name) throws IOException {
        this(name, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    private EchoBackend(String name, InetSocketAddress bind) throws IOException {
        this.name = name;
        this.channel = DatagramChannel.open();
        channel.bind(bind);
        this.address = (InetSocketAddress) channel.getLocalAddress();
        this.thread = Thread.ofPlatform().name("echo-" + name).daemon().start(this::serve);
    }

    /** Answers {@code name:payload}. */
    static EchoBackend named(String name) throws IOException {
        return new EchoBackend(name);
    }

    /** Answers {@code name:payload} on {@code bind} (another loopback address, a given port). */
    static EchoBackend named(String name, InetSocketAddress bind) throws IOException {
        return new EchoBackend(name, bind);
    }

    /** Echoes every datagram unchanged. */
    static EchoBackend plain() throws IOException {
        return new EchoBackend(null);
    }

    InetSocketAddress address() {
        return address;
    }

    /** The backend id in the pool, logs and metrics. */
    String id() {
        return "127.0.0.1:" + address.getPort();
    }

    int received() {
        return received.get();
    }

    private void serve() {
        ByteBuffer in = ByteBuffer.allocate(65_535);
        byte[] prefix = name == null ? new byte[0] : (name + ":").getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(65_535 + prefix.length);
        while (true) {
            try {
                in.clear();
                SocketAddress from = channel.receive(in);
                in.flip();
                received.incrementAndGet();
                out.clear();
                out.put(prefix).put(in).flip();
                channel.send(out, from);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // a client that went away: keep serving the others
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // test teardown
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A round-robin pool over these backends, built the way Aegis builds its pools. */
    static BackendPool pool(EchoBackend... backends) {
        List<BackendPool.ResolvedBackend> list = new ArrayList<>();
        for (EchoBackend b : backends) {
            list.add(resolved(b.address()));
        }
        return new BackendPool("udp", list,
                new LoadBalancingConfig(LoadBalancingConfig.Algorithm.ROUND_ROBIN, false),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)), Balancers::create);
    }

    static BackendPool.ResolvedBackend resolved(InetSocketAddress addr) {
        return new BackendPool.ResolvedBackend(
                new BackendConfig(new HostPort("127.0.0.1", addr.getPort()), 100, 0, Optional.empty()), addr);
    }
}
