package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import dev.aegis.config.HostPort;
import dev.aegis.config.TlsRouteConfig;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The JSON shapes of backends and addresses shared by the read endpoints. */
final class BackendViews {

    private BackendViews() {
    }

    /** One backend in {@code GET /status}. */
    static Map<String, Object> status(ProxyStatus.Backend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.id());
        m.put("weight", b.weight());
        m.put("healthy", b.healthy());
        m.put("circuit", b.circuit().label());
        m.put("active_connections", b.activeConnections());
        m.put("total_connections", b.totalConnections());
        m.put("failures", b.failedConnections());
        m.put("bytes_from_clients", b.bytesFromClients());
        m.put("bytes_to_clients", b.bytesToClients());
        m.put("source", b.source());
        return m;
    }

    /** One backend in {@code GET /backends} (the original's field names). */
    static Map<String, Object> listing(ProxyStatus.Backend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.id());
        m.put("weight", b.weight());
        m.put("healthy", b.healthy());
        m.put("circuit_state", b.circuit().label());
        m.put("active_connections", b.activeConnections());
        m.put("total_requests", b.totalConnections());
        m.put("failed_requests", b.failedConnections());
        m.put("source", b.source());
        return m;
    }

    /** The pool's current members in config order; an empty list for an absent pool. */
    static List<Map<String, Object>> list(ProxyStatus.Pool pool, Function<ProxyStatus.Backend, Map<String, Object>> view) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (pool != null) {
            for (ProxyStatus.Backend b : pool.backends()) {
                out.add(view.apply(b));
            }
        }
        return out;
    }

    /**
     * The pools of a service's {@code tls_routes} (SPEC §10), each {@code {"pool": "tls:<first
     * server name>", "server_names": [...], "backends": [...]}}; empty without routes.
     */
    static List<Map<String, Object>> tlsRoutes(ProxyStatus.ServiceStatus service,
            Function<ProxyStatus.Backend, Map<String, Object>> view) {
        List<Map<String, Object>> out = new ArrayList<>();
        List<TlsRouteConfig> routes = service.config().tlsRoutes();
        for (int i = 0; i < service.tlsPools().size() && i < routes.size(); i++) {
            ProxyStatus.Pool pool = service.tlsPools().get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pool", pool.name());
            m.put("server_names", routes.get(i).serverNames());
            m.put("backends", list(pool, view));
            out.add(m);
        }
        return out;
    }

    /** {@code host:port} of a bound address, IPv6 in brackets. */
    static String hostPort(InetSocketAddress a) {
        return HostPort.format(a);
    }
}
