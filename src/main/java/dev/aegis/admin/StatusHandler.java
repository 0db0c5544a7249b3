package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import dev.aegis.config.ConfigWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /status}: what is running and how it is doing. {@code total_connections} counts the
 * TCP connections accepted by the current listener (it restarts from zero when a reload moves the
 * listen address); {@code active_connections} and {@code udp_sessions} include listeners retired
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
        body.put("total_connections", s.tcpListener().map(ProxyStatus.Listener::acceptedConnections).orElse(0L));
        body.put("udp_sessions", s.udpSessions());
        Map<String, Object> listeners = new LinkedHashMap<>();
        listeners.put("tcp", s.tcpListener().map(l -> BackendViews.hostPort(l.address())).orElse(null));
        listeners.put("udp", s.udpListener().map(l -> BackendViews.hostPort(l.address())).orElse(null));
        body.put("listeners", listeners);
        body.put("algorithm", s.config().proxy().loadBalancing().algorithm().yamlName());
        body.put("config_file", s.configFile().toString());
        body.put("generation", s.generation());
        Map<String, Object> reloads = new LinkedHashMap<>();
        reloads.put("ok", s.reloadsOk());
        reloads.put("failed", s.reloadsFailed());
        body.put("reloads", reloads);
        body.put("config", ConfigWriter.toMap(s.config()));
        body.put("backends", BackendViews.list(s.tcpPool(), BackendViews::status));
        body.put("udp_backends", BackendViews.list(s.udpPool().orElse(null), BackendViews::status));
        return Reply.ok(body);
    }
}
