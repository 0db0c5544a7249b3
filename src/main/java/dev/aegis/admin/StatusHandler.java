package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import dev.aegis.config.ConfigWriter;
import dev.aegis.tcp.RejectReason;
import dev.aegis.udp.UdpStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /status}: what is running and how it is doing, with a {@code services} list (SPEC §9);
 * with one service its listeners, algorithm and backends are also at the top level (SPEC §5).
 * {@code total_connections} counts the TCP connections accepted by the current listeners (it
 * restarts from zero for an address a reload moved); {@code active_connections} and {@code udp_sessions} include listeners retired
 * by a reload whose traffic has not ended yet.
 */
final class StatusHandler {

    private final Supplier<ProxyStatus> status;

    StatusHandler(Supplier<ProxyStatus> status) {
        this.status = status;
    }

    Reply status(ApiRequest request) {
        ProxyStatus s = status.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", s.version());
        body.put("uptime_seconds", s.uptimeSeconds());
        body.put("draining", s.draining());
        body.put("active_connections", s.activeConnections());
        long total = 0;
        for (ProxyStatus.ServiceStatus service : s.services()) {
            for (ProxyStatus.Listener l : service.tcpListeners()) {
                total += l.acceptedConnections();
            }
        }
        body.put("total_connections", total);
        body.put("udp_sessions", s.udpSessions());
        if (s.services().size() == 1) {
            // one service: the shape of SPEC §5, its fields at the top level
            ProxyStatus.ServiceStatus only = s.services().get(0);
            body.put("listeners", listeners(only));
            body.put("algorithm", only.config().loadBalancing().algorithm().yamlName());
        }
        body.put("config_file", s.configFile().toString());
        body.put("generation", s.generation());
        Map<String, Object> reloads = new LinkedHashMap<>();
        reloads.put("ok", s.reloadsOk());
        reloads.put("failed", s.reloadsFailed());
        body.put("reloads", reloads);
        body.put("config", ConfigWriter.toMap(s.config()));
        if (s.services().size() == 1) {
            ProxyStatus.ServiceStatus only = s.services().get(0);
            body.put("backends", BackendViews.list(only.tcpPool(), BackendViews::status));
            body.put("udp_backends", BackendViews.list(only.udpPool().orElse(null), BackendViews::status));
            if (!only.tlsPools().isEmpty()) {
                body.put("tls_routes", BackendViews.tlsRoutes(only, BackendViews::status));
            }
        }
        List<Map<String, Object>> services = new ArrayList<>();
        for (ProxyStatus.ServiceStatus service : s.services()) {
            services.add(service(service));
        }
        body.put("services", services);
        return Reply.ok(body);
    }

    /** One service with the fields that {@code /status} has for a one-service proxy. */
    private static Map<String, Object> service(ProxyStatus.ServiceStatus service) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", service.name());
        m.put("draining", service.draining());
        m.put("active_connections", service.activeConnections());
        long total = 0;
        for (ProxyStatus.Listener l : service.tcpListeners()) {
            total += l.acceptedConnections();
        }
        m.put("total_connections", total);
        m.put("udp_sessions", service.udpSessions());
        counters(service, m);
        m.put("listeners", listeners(service));
        m.put("algorithm", service.config().loadBalancing().algorithm().yamlName());
        m.put("backends", BackendViews.list(service.tcpPool(), BackendViews::status));
        m.put("udp_backends", BackendViews.list(service.udpPool().orElse(null), BackendViews::status));
        if (!service.tlsPools().isEmpty()) {
            m.put("tls_routes", BackendViews.tlsRoutes(service, BackendViews::status));
        }
        return m;
    }

    /**
     * The counters a client turns into rates (the dashboard's charts): they only grow while the
     * process runs, across reloads (unlike {@code total_connections}, which follows the current
     * listeners). {@code rejected} has every TCP reason and {@code udp_dropped} every UDP one
     * (as {@code proxy_udp_dropped_total}), zeros included, so their keys are stable.
     */
    private static void counters(ProxyStatus.ServiceStatus service, Map<String, Object> m) {
        ProxyStatus.TcpTotals tcp = service.tcpTotals();
        m.put("accepted_connections", tcp.acceptedConnections());
        m.put("bytes_from_clients", tcp.bytesFromClients());
        m.put("bytes_to_clients", tcp.bytesToClients());
        Map<String, Object> rejected = new LinkedHashMap<>();
        for (RejectReason r : RejectReason.values()) {
            rejected.put(r.label(), tcp.rejected(r));
        }
        m.put("rejected", rejected);
        UdpStats udp = service.udpTotals();
        m.put("udp_sessions_created", udp.sessionsCreated());
        m.put("udp_bytes_from_clients", udp.bytesFromClients());
        m.put("udp_bytes_to_clients", udp.bytesToClients());
        // the reasons of proxy_udp_dropped_total, same names
        Map<String, Object> dropped = new LinkedHashMap<>();
        dropped.put("max_sessions", udp.droppedMaxSessions());
        dropped.put("no_backend", udp.droppedNoBackend());
        dropped.put("rate_limited", udp.droppedRateLimited());
        dropped.put("draining", udp.droppedDraining());
        dropped.put("packet_rate", udp.droppedPacketRate());
        dropped.put("unsent", udp.datagramsUnsent());
        dropped.put("local_error", udp.droppedLocalError());
        dropped.put("bad_proxy_header", udp.droppedBadProxyHeader());
        m.put("udp_dropped", dropped);
    }

    /**
     * {@code {"tcp": "host:port", "udp": ...}} as in SPEC §5 when a service has at most one
     * listener per protocol (null for none); a list when it has several.
     */
    static Map<String, Object> listeners(ProxyStatus.ServiceStatus service) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tcp", addresses(service.tcpListeners()));
        m.put("udp", addresses(service.udpListeners()));
        return m;
    }

    private static Object addresses(List<ProxyStatus.Listener> listeners) {
        if (listeners.isEmpty()) {
            return null;
        }
        if (listeners.size() == 1) {
            return BackendViews.hostPort(listeners.get(0).address());
        }
        return listeners.stream().map(l -> BackendViews.hostPort(l.address())).toList();
    }
}
