package dev.aegis.admin;

import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import dev.aegis.config.HostPort;
import dev.aegis.traffic.CircuitBreaker;
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

    /** Up for {@code GET /health}: passing its checks (or unchecked) and its circuit not open. */
    static boolean up(Backend b) {
        return b.isHealthy() && b.circuit().phase() != CircuitBreaker.Phase.OPEN;
    }

    /** One backend in {@code GET /status}. */
    static Map<String, Object> status(Backend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.id());
        m.put("weight", b.weight());
        m.put("healthy", b.isHealthy());
        m.put("circuit", b.circuit().phase().label());
        m.put("active_connections", b.activeConnections());
        m.put("total_connections", b.totalConnections());
        m.put("failures", b.failedConnections());
        return m;
    }

    /** One backend in {@code GET /backends} (the original's field names). */
    static Map<String, Object> listing(Backend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", b.id());
        m.put("weight", b.weight());
        m.put("healthy", b.isHealthy());
        m.put("circuit_state", b.circuit().phase().label());
        m.put("active_connections", b.activeConnections());
        m.put("total_requests", b.totalConnections());
        m.put("failed_requests", b.failedConnections());
        return m;
    }

    /** The pool's current members in config order; an empty list for an absent pool. */
    static List<Map<String, Object>> list(BackendPool pool, Function<Backend, Map<String, Object>> view) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (pool != null) {
            for (Backend b : pool.current().backends()) {
                out.add(view.apply(b));
            }
        }
        return out;
    }

    /** {@code host:port} of a bound address, IPv6 in brackets. */
    static String hostPort(InetSocketAddress a) {
        return HostPort.format(a);
    }
}
