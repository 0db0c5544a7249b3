package dev.aegis.tcp;

import dev.aegis.backend.BackendPool;
import dev.aegis.config.QueueConfig;
import dev.aegis.traffic.TokenBucket;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * Everything a TCP connection needs from one config generation, built once by the service
 * (the composition root's side) and swapped as a whole on reload: the listener holds the
 * current one in a single volatile field. A connection takes the context that is current when
 * it is accepted (admission, backend choice, bandwidth); the listener's sweeper reads the
 * timeouts from the current one, so new timeouts reach open connections too.
 *
 * @param settings         timeouts, retries, limits, access-log flag
 * @param pool             the backends to choose from
 * @param admission        the reason to reject a new client (rate limiting), or null to admit it
 * @param clientHasher     the hash of the client IP that consistent hashing keys on
 * @param bandwidthBuckets makes the bandwidth bucket of each direction of a new connection
 *                         ({@code per_connection.bytes_per_second})
 * @param connectLatency   receives the backend id and the time each successful connect to it took, in nanoseconds
 * @param open             the service's open connections, over all its listeners and config
 *                         generations: what {@code traffic.max_connections} limits (one counter per
 *                         service, so a port range of 21 listeners still admits max_connections in all)
 * @param tlsRouting       the service's {@code tls_routes} ({@link TlsRouting#NONE} without them);
 *                         {@code pool} is then the default pool
 * @param queue            the service's connection queue ({@code queue:}), one object across reloads
 */
public record ConnectionContext(
        TcpSettings settings,
        BackendPool pool,
        Function<InetAddress, RejectReason> admission,
        ToIntFunction<InetAddress> clientHasher,
        Supplier<TokenBucket> bandwidthBuckets,
        ObjLongConsumer<String> connectLatency,
        AtomicInteger open,
        TlsRouting tlsRouting,
        ConnectionQueue queue) {

    /** A context without a queue (a queue of size 0 of its own). */
    public ConnectionContext(TcpSettings settings, BackendPool pool, Function<InetAddress, RejectReason> admission,
            ToIntFunction<InetAddress> clientHasher, Supplier<TokenBucket> bandwidthBuckets,
            ObjLongConsumer<String> connectLatency, AtomicInteger open, TlsRouting tlsRouting) {
        this(settings, pool, admission, clientHasher, bandwidthBuckets, connectLatency, open, tlsRouting,
                new ConnectionQueue(QueueConfig.NONE));
    }

    /** A context without TLS routes. */
    public ConnectionContext(TcpSettings settings, BackendPool pool, Function<InetAddress, RejectReason> admission,
            ToIntFunction<InetAddress> clientHasher, Supplier<TokenBucket> bandwidthBuckets,
            ObjLongConsumer<String> connectLatency, AtomicInteger open) {
        this(settings, pool, admission, clientHasher, bandwidthBuckets, connectLatency, open, TlsRouting.NONE);
    }

    /** No admission limit, no bandwidth limit, the JDK's address hash, no latency recorder, a counter of its own. */
    public static ConnectionContext of(TcpSettings settings, BackendPool pool) {
        return new ConnectionContext(settings, pool, client -> null, InetAddress::hashCode,
                () -> TokenBucket.UNLIMITED, (backend, nanos) -> { }, new AtomicInteger());
    }

    /** This context with other settings (a test, or a reload that changes only timeouts). */
    public ConnectionContext withSettings(TcpSettings next) {
        return new ConnectionContext(next, pool, admission, clientHasher, bandwidthBuckets, connectLatency, open, tlsRouting,
                queue);
    }

    /** This context with another bandwidth bucket factory. */
    public ConnectionContext withBandwidthBuckets(Supplier<TokenBucket> next) {
        return new ConnectionContext(settings, pool, admission, clientHasher, next, connectLatency, open, tlsRouting,
                queue);
    }

    /** This context with TLS routes. */
    public ConnectionContext withTlsRouting(TlsRouting next) {
        return new ConnectionContext(settings, pool, admission, clientHasher, bandwidthBuckets, connectLatency, open, next,
                queue);
    }

    /** This context with a connection queue. */
    public ConnectionContext withQueue(ConnectionQueue next) {
        return new ConnectionContext(settings, pool, admission, clientHasher, bandwidthBuckets, connectLatency, open,
                tlsRouting, next);
    }
}
