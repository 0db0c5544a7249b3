package dev.aegis.tcp;

import dev.aegis.backend.BackendPool;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/** A TcpListener on a free loopback port in front of the given backends, with a running sweeper. */
final class ProxyFixture implements AutoCloseable {

    static final TcpSettings DEFAULTS = new TcpSettings(
            Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0, false);

    final BackendPool pool;
    final TcpListener listener;
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor();

    ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends) throws IOException {
        this(settings, backends, 0, new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
    }

    ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends, int maxPerBackend,
            CircuitBreakerConfig circuit) throws IOException {
        this(settings, backends, maxPerBackend, circuit, LoadBalancingConfig.Algorithm.ROUND_ROBIN);
    }

    ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends, int maxPerBackend,
            CircuitBreakerConfig circuit, LoadBalancingConfig.Algorithm algorithm) throws IOException {
        this(settings, backends, maxPerBackend, circuit, new LoadBalancingConfig(algorithm, false), System::nanoTime,
                UnaryOperator.identity(), line -> { });
    }

    /** With {@code balancing} as given and {@code clock} as the pool's slow-start clock. */
    ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends, int maxPerBackend,
            CircuitBreakerConfig circuit, LoadBalancingConfig balancing, LongSupplier clock) throws IOException {
        this(settings, backends, maxPerBackend, circuit, balancing, clock, UnaryOperator.identity(), line -> { });
    }

    /**
     * @param context     changes the listener's context (a queue, say)
     * @param accessLines receives the access lines when {@code settings.accessLog()}
     */
    ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends, int maxPerBackend,
            CircuitBreakerConfig circuit, LoadBalancingConfig.Algorithm algorithm,
            UnaryOperator<ConnectionContext> context, Consumer<String> accessLines) throws IOException {
        this(settings, backends, maxPerBackend, circuit, new LoadBalancingConfig(algorithm, false), System::nanoTime,
                context, accessLines);
    }

    private ProxyFixture(TcpSettings settings, List<InetSocketAddress> backends, int maxPerBackend,
            CircuitBreakerConfig circuit, LoadBalancingConfig balancing, LongSupplier clock,
            UnaryOperator<ConnectionContext> context, Consumer<String> accessLines) throws IOException {
        List<BackendPool.ResolvedBackend> resolved = new ArrayList<>();
        for (InetSocketAddress a : backends) {
            resolved.add(new BackendPool.ResolvedBackend(
                    new BackendConfig(new HostPort(a.getHostString(), a.getPort()), 100, maxPerBackend, Optional.empty()), a));
        }
        pool = new BackendPool("tcp", resolved, balancing, circuit, Balancers::create, clock);
        listener = new TcpListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                context.apply(ConnectionContext.of(settings, pool)), accessLines);
        listener.start();
        sweeper.scheduleAtFixedRate(listener::sweep, 10, 10, TimeUnit.MILLISECONDS);
    }

    Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort());
        s.setSoTimeout(10_000); // a hung test fails instead of hanging CI
        return s;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        listener.close();
    }
}
