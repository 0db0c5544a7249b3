package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /health}. Shows each pool that serves a listener: {@code backends} (TCP) and
 * {@code udp_backends} (only with a UDP listener), each backend up or down ({@link ProxyStatus.Backend#up}).
 * Status {@code ok} when all are up, {@code degraded} when some are down, {@code down} (HTTP 503)
 * when a shown pool has no backend up, so a load balancer in front of Aegis can take it out.
 * {@code services} has the same per service; the top-level status is the worst of them.
 */
final class HealthHandler {

    private final Supplier<ProxyStatus> status;

    HealthHandler(Supplier<ProxyStatus> status) {
        this.status = status;
    }

    Reply health(ApiRequest request) {
        ProxyStatus s = status.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok"); // first key; the verdict is set below
        Map<String, Object> services = new LinkedHashMap<>();
        Tally all = new Tally();
        for (ProxyStatus.ServiceStatus service : s.services()) {
            Tally tally = new Tally();
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("status", "ok");
            if (!service.tcpListeners().isEmpty() || service.udpListeners().isEmpty()) {
                one.put("backends", emptyDefaultPool(service) ? Map.of() : tally.pool(service.tcpPool()));
            }
            if (!service.udpListeners().isEmpty()) {
                one.put("udp_backends", tally.pool(service.udpPool().orElse(null)));
            }
            if (!service.tlsPools().isEmpty()) {
                Map<String, Object> routes = new LinkedHashMap<>();
                for (ProxyStatus.Pool pool : service.tlsPools()) {
                    routes.put(pool.name(), tally.pool(pool));
                }
                one.put("tls_routes", routes);
            }
            one.put("status", tally.verdict());
            services.put(service.name(), one);
            all.someDown |= tally.someDown;
            all.poolDown |= tally.poolDown;
            if (s.services().size() == 1) {
                // one service: the shape of SPEC §5
                one.forEach((k, v) -> {
                    if (!k.equals("status")) {
                        body.put(k, v);
                    }
                });
            }
        }
        body.put("status", all.verdict()); // the worst of the services
        body.put("services", services);
        return new Reply(all.poolDown ? 503 : 200, body);
    }

    /** One service's verdict: {@code ok}, {@code degraded} or {@code down}. */
    static String verdict(ProxyStatus.ServiceStatus service) {
        Tally tally = new Tally();
        if (!service.tcpListeners().isEmpty() || service.udpListeners().isEmpty()) {
            if (!emptyDefaultPool(service)) {
                tally.pool(service.tcpPool());
            }
        }
        if (!service.udpListeners().isEmpty()) {
            tally.pool(service.udpPool().orElse(null));
        }
        for (ProxyStatus.Pool pool : service.tlsPools()) {
            tally.pool(pool);
        }
        return tally.verdict();
    }

    /** {@code tls_routes} with {@code backends: []}: no default pool by design (SPEC §10, no_route), not a pool that is down. */
    private static boolean emptyDefaultPool(ProxyStatus.ServiceStatus service) {
        return !service.tlsPools().isEmpty() && service.tcpPool().backends().isEmpty();
    }

    private static final class Tally {
        boolean someDown;
        boolean poolDown;

        String verdict() {
            return poolDown ? "down" : someDown ? "degraded" : "ok";
        }

        Map<String, Boolean> pool(ProxyStatus.Pool pool) {
            Map<String, Boolean> out = new LinkedHashMap<>();
            boolean anyUp = false;
            if (pool != null) {
                for (ProxyStatus.Backend b : pool.backends()) {
                    boolean up = b.up();
                    out.put(b.id(), up);
                    anyUp |= up;
                    someDown |= !up;
                }
            }
            poolDown |= !anyUp;
            return out;
        }
    }
}
