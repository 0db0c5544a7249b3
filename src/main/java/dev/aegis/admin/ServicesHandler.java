package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /services} (SPEC §9): each service's name, listeners, algorithm, health status
 * ({@code ok}, {@code degraded}, {@code down} as {@code /health} decides it), active connections
 * and UDP sessions.
 */
final class ServicesHandler {

    private final Supplier<ProxyStatus> status;

    ServicesHandler(Supplier<ProxyStatus> status) {
        this.status = status;
    }

    Reply list(ApiRequest request) {
        ProxyStatus s = status.get();
        List<Map<String, Object>> services = new ArrayList<>();
        for (ProxyStatus.ServiceStatus service : s.services()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", service.name());
            m.put("listeners", StatusHandler.listeners(service));
            m.put("algorithm", service.config().loadBalancing().algorithm().yamlName());
            m.put("status", HealthHandler.verdict(service));
            m.put("draining", service.draining());
            m.put("active_connections", service.activeConnections());
            m.put("udp_sessions", service.udpSessions());
            services.add(m);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("services", services);
        return Reply.ok(body);
    }
}
