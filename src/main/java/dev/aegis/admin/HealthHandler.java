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
        Tally tally = new Tally();
        if (s.tcpListener().isPresent() || s.udpListener().isEmpty()) {
            body.put("backends", tally.pool(s.tcpPool()));
        }
        if (s.udpListener().isPresent()) {
            body.put("udp_backends", tally.pool(s.udpPool().orElse(null)));
        }
        String verdict = tally.poolDown ? "down" : tally.someDown ? "degraded" : "ok";
        body.put("status", verdict);
        return new Reply(tally.poolDown ? 503 : 200, body);
    }

    private static final class Tally {
        boolean someDown;
        boolean poolDown;

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
