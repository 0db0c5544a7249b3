package dev.aegis.admin;

import dev.aegis.Aegis;
import dev.aegis.Service;
import dev.aegis.Version;
import dev.aegis.config.AegisConfig;
import dev.aegis.config.ConfigWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /status}: what is running and how it is doing. {@code total_connections} counts the
 * TCP connections accepted by the current listener (it restarts from zero when a reload moves the
 * listen address); {@code active_connections} and {@code udp_sessions} include listeners retired
 * by a reload whose traffic has not ended yet.
 */
final class StatusHandler {

    private final Aegis aegis;

    StatusHandler(Aegis aegis) {
        this.aegis = aegis;
    }

    Reply status(ApiRequest request) {
        Service service = aegis.service();
        AegisConfig config = aegis.config();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", Version.get());
        body.put("uptime_seconds", (System.currentTimeMillis() - aegis.startedAtMillis()) / 1000);
        body.put("draining", aegis.draining());
        body.put("active_connections", service.activeConnections());
        body.put("total_connections", service.tcpListener().map(l -> l.stats().acceptedConnections()).orElse(0L));
        body.put("udp_sessions", service.udpSessions());
        Map<String, Object> listeners = new LinkedHashMap<>();
        listeners.put("tcp", service.tcpListener().map(l -> BackendViews.hostPort(l.localAddress())).orElse(null));
        listeners.put("udp", service.udpListener().map(l -> BackendViews.hostPort(l.localAddress())).orElse(null));
        body.put("listeners", listeners);
        body.put("algorithm", config.proxy().loadBalancing().algorithm().yamlName());
        body.put("config_file", aegis.configFile().toString());
        body.put("generation", aegis.generation());
        Map<String, Object> reloads = new LinkedHashMap<>();
        reloads.put("ok", aegis.reloadsOk());
        reloads.put("failed", aegis.reloadsFailed());
        body.put("reloads", reloads);
        body.put("config", ConfigWriter.toMap(config));
        body.put("backends", BackendViews.list(service.tcpPool(), BackendViews::status));
        body.put("udp_backends", BackendViews.list(service.udpPool().orElse(null), BackendViews::status));
        return Reply.ok(body);
    }
}
