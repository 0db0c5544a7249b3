package dev.aegis.tcp;

import dev.aegis.backend.BackendPool;
import dev.aegis.tls.ServerNameMatcher;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A service's {@code tls_routes} for one config generation (SPEC §10): which pool serves which
 * server name, and how long a new connection's ClientHello is awaited.
 *
 * @param matcher     server name -> index into {@code pools}
 * @param pools       each route's own pool, in route order
 * @param clientHello {@code traffic.timeout.client_hello}: after it, the connection goes to the
 *                    default pool with whatever the client has sent (a server that speaks first)
 */
public record TlsRouting(ServerNameMatcher matcher, List<BackendPool> pools, Duration clientHello) {

    /** No routes: nothing is read before the backend is chosen. */
    public static final TlsRouting NONE = new TlsRouting(ServerNameMatcher.of(List.of()), List.of(), Duration.ZERO);

    public TlsRouting {
        Objects.requireNonNull(matcher, "matcher");
        pools = List.copyOf(pools);
        Objects.requireNonNull(clientHello, "clientHello");
    }

    /** Whether a new connection's first bytes are read to pick its pool. */
    public boolean enabled() {
        return !pools.isEmpty();
    }

    /** The pool for a server name; null when no route names it. */
    BackendPool poolFor(String serverName) {
        int route = matcher.lookup(serverName);
        return route < 0 ? null : pools.get(route);
    }
}
