package dev.aegis.config;

import java.util.List;
import java.util.Locale;

/**
 * One entry of a service's {@code tls_routes} (SPEC §10): clients whose TLS ClientHello names one
 * of {@code serverNames} go to {@code backends}, a pool of its own.
 *
 * @param serverNames exact names or one leading {@code *.} label, as written (at least one; each
 *                    appears in one route only)
 * @param backends    the route's pool, the same fields as a service's {@code backends} (at least one)
 */
public record TlsRouteConfig(List<String> serverNames, List<BackendConfig> backends) {

    /** What every route pool's name starts with. */
    public static final String POOL_PREFIX = "tls:";

    public TlsRouteConfig {
        serverNames = List.copyOf(serverNames);
        backends = List.copyOf(backends);
    }

    /** The route's pool name in the admin API and metrics: {@code tls:} and its first server name, lower case. */
    public String poolName() {
        return POOL_PREFIX + serverNames.get(0).toLowerCase(Locale.ROOT);
    }
}
