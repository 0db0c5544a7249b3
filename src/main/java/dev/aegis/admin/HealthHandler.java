package dev.aegis.admin;

import dev.aegis.Aegis;
import dev.aegis.Service;
import dev.aegis.backend.Backend;
import dev.aegis.backend.BackendPool;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /health}. Shows each pool that serves a listener: {@code backends} (TCP) and
 * {@code udp_backends} (only with a UDP listener), each backend up or down ({@link BackendViews#up}).
 * Status {@code ok} when all are up, {@code degraded} when some are down, {@code down} (HTTP 503)
 * when a shown pool has no backend up, so a load balancer in front of Aegis can take it out.
 */
final class HealthHandler {

    private final Aegis aegis;

    HealthHandler(Aegis aegis) {
        this.aegis = aegis;
    }

    Reply health(ApiRequest request) {
        Service service = aegis.service();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "ok"); // first key; the verdict is set below
        Tally tally = new Tally();
        if (service.tcpListener().isPresent() || service.udpListener().isEmpty()) {
            body.put("backends", tally.pool(service.tcpPool()));
        }
        if (service.udpListener().isPresent()) {
            body.put("udp_backends", tally.pool(service.udpPool().orElse(null)));
        }
        String status = tally.poolDown ? "down" : tally.someDown ? "degraded" : "ok";
        body.put("status", status);
        return new Reply(tally.poolDown ? 503 : 200, body);
    }

    private static final class Tally {
        boolean someDown;
        boolean poolDown;

        Map<String, Boolean> pool(BackendPool pool) {
            Map<String, Boolean> out = new LinkedHashMap<>();
            boolean anyUp = false;
            if (pool != null) {
                for (Backend b : pool.current().backends()) {
                    boolean up = BackendViews.up(b);
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
