package dev.aegis.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The effective configuration as a tree of maps, lists and plain values, with the YAML key names:
 * what the admin API shows as the {@code config} object of {@code GET /status} (like the original
 * Aegis). Every default is filled in, durations read as in the file ({@code 5s}, {@code 500ms}),
 * and the API token is masked. Reading the YAML form of the tree back with {@link ConfigLoader}
 * gives the same configuration, the token aside.
 */
public final class ConfigWriter {

    /** What a non-empty {@code api_token} is shown as. */
    public static final String MASKED_TOKEN = "***";

    private ConfigWriter() {
    }

    /** @return insertion-ordered maps (file order), lists, and String, Number and Boolean leaves */
    public static Map<String, Object> toMap(AegisConfig config) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (config.isSingleProxy()) {
            root.put("proxy", service(config.services().get(0), false));
        } else {
            List<Object> services = new ArrayList<>();
            for (ServiceConfig service : config.services()) {
                services.add(service(service, true));
            }
            root.put("services", services);
        }
        AdminConfig admin = config.admin();
        root.put("admin", map(
                "api_address", admin.apiAddress().toString(),
                "metrics_address", admin.metricsAddress().toString(),
                "api_token", admin.apiToken().isEmpty() ? "" : MASKED_TOKEN,
                "allowed_hosts", admin.allowedHosts()));
        root.put("logging", map("level", config.logging().level(), "access_log", config.logging().accessLog()));
        root.put("shutdown", map("drain_timeout", Durations.format(config.shutdown().drainTimeout())));
        return root;
    }

    /** One service: the {@code proxy:} block, or an entry of {@code services:} (with its name). */
    public static Map<String, Object> service(ServiceConfig proxy, boolean named) {
        Map<String, Object> listen = new LinkedHashMap<>();
        if (proxy.listen().hasTcp()) {
            listen.put("tcp", listen(proxy.listen().tcp()));
        }
        if (proxy.listen().hasUdp()) {
            listen.put("udp", listen(proxy.listen().udp()));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (named) {
            out.put("name", proxy.name());
        }
        out.put("listen", listen);
        out.put("backends", backends(proxy.backends(), false));
        if (!proxy.udpBackends().isEmpty()) {
            out.put("udp_backends", backends(proxy.udpBackends(), true));
        }
        if (!proxy.tlsRoutes().isEmpty()) {
            List<Object> routes = new ArrayList<>();
            for (TlsRouteConfig route : proxy.tlsRoutes()) {
                routes.add(map("server_names", route.serverNames(), "backends", backends(route.backends(), false)));
            }
            out.put("tls_routes", routes);
        }
        proxy.discovery().ifPresent(d -> out.put("discovery", discovery(d, !proxy.listen().hasTcp())));
        Map<String, Object> balancing = map(
                "algorithm", proxy.loadBalancing().algorithm().yamlName(),
                "session_affinity", proxy.loadBalancing().sessionAffinity(),
                "panic_threshold", proxy.loadBalancing().panicThreshold());
        // Only when set: a file without it reads back the same, and older tools see no new key.
        if (!proxy.loadBalancing().slowStart().isZero()) {
            balancing.put("slow_start", Durations.format(proxy.loadBalancing().slowStart()));
        }
        out.put("load_balancing", balancing);
        out.put("traffic", traffic(proxy.traffic()));
        out.put("circuit_breaker", map(
                "error_threshold", proxy.circuitBreaker().errorThreshold(),
                "timeout", Durations.format(proxy.circuitBreaker().timeout())));
        // Left out of a TCP-only service unless set: the loader warns that it is ignored there.
        if (proxy.listen().hasUdp() || !proxy.udp().equals(UdpModeConfig.DEFAULT)) {
            out.put("udp", map(
                    "responses", proxy.udp().responses(),
                    "per_packet", proxy.udp().perPacket()));
        }
        // Only when on: a file without the block reads back the same, and older tools see no new key.
        ProxyProtocolConfig pp = proxy.proxyProtocol();
        if (pp.send() != ProxyProtocolConfig.Send.NONE || !pp.acceptFrom().isEmpty()) {
            Map<String, Object> block = new LinkedHashMap<>();
            block.put("send", pp.send().yamlName());
            if (!pp.acceptFrom().isEmpty()) {
                block.put("accept_from", pp.acceptFrom().texts());
            }
            out.put("proxy_protocol", block);
        }
        // Only when set, as proxy_protocol: the defaults read back the same without them.
        if (!proxy.queue().equals(QueueConfig.NONE)) {
            out.put("queue", map("size", proxy.queue().size(), "timeout", Durations.format(proxy.queue().timeout())));
        }
        if (proxy.backendRemoval() != BackendRemoval.DRAIN) {
            out.put("backend_removal", proxy.backendRemoval().yamlName());
        }
        return out;
    }

    /** One entry as a string (the common case, and the original's shape), several as a list. */
    private static Object listen(List<ListenRange> ranges) {
        if (ranges.size() == 1) {
            return ranges.get(0).toString();
        }
        return ranges.stream().map(ListenRange::toString).toList();
    }

    private static List<Object> backends(List<BackendConfig> backends, boolean udp) {
        List<Object> out = new ArrayList<>();
        for (BackendConfig backend : backends) {
            Map<String, Object> entry = map(
                    "address", backend.id(),
                    "weight", backend.weight(),
                    "max_connections", backend.maxConnections());
            backend.healthCheck().ifPresent(check -> entry.put("health_check", healthCheck(check, udp)));
            out.add(entry);
        }
        return out;
    }

    /** {@code discovery:}; the port only when given, the resolvers only when listed (absent = the system's). */
    private static Map<String, Object> discovery(DiscoveryConfig d, boolean udpOnly) {
        Map<String, Object> dns = map("names", d.names(), "refresh", Durations.format(d.refresh()));
        if (d.port() != 0) {
            dns.put("port", d.port());
        }
        Map<String, Object> out = map("dns", dns);
        if (!d.resolvers().isEmpty()) {
            out.put("resolvers", d.resolvers().stream().map(HostPort::toString).toList());
        }
        d.healthCheck().ifPresent(check -> out.put("health_check", healthCheck(check, udpOnly)));
        out.put("weight", d.weight());
        return out;
    }

    /** @param udp a check of {@code udp_backends}: a datagram, so no HTTP scheme (the loader warns it is ignored) */
    private static Map<String, Object> healthCheck(HealthCheckConfig check, boolean udp) {
        Map<String, Object> out = map(
                "interval", Durations.format(check.interval()),
                "timeout", Durations.format(check.timeout()));
        check.path().ifPresent(path -> out.put("path", path));
        if (!udp) {
            out.put("scheme", check.scheme().name().toLowerCase(Locale.ROOT));
        }
        out.put("healthy_threshold", check.healthyThreshold());
        out.put("unhealthy_threshold", check.unhealthyThreshold());
        return out;
    }

    private static Map<String, Object> traffic(TrafficConfig traffic) {
        RateLimitConfig rate = traffic.rateLimit();
        TimeoutConfig timeout = traffic.timeout();
        Map<String, Object> out = map(
                "rate_limit", map(
                        "requests_per_second", number(rate.requestsPerSecond()),
                        "burst", rate.burst(),
                        "per_client", map(
                                "requests_per_second", number(rate.perClient().requestsPerSecond()),
                                "burst", rate.perClient().burst()),
                        "per_connection", map(
                                "bytes_per_second", rate.perConnection().bytesPerSecond(),
                                "packets_per_second", rate.perConnection().packetsPerSecond())),
                "timeout", map(
                        "connect", Durations.format(timeout.connect()),
                        "idle", Durations.format(timeout.idle()),
                        "read", Durations.format(timeout.read()),
                        "udp_session", Durations.format(timeout.udpSession())),
                "retries", traffic.retries(),
                "max_connections", traffic.maxConnections(),
                "udp_max_sessions", traffic.udpMaxSessions());
        if (!timeout.clientHello().equals(TimeoutConfig.DEFAULT_CLIENT_HELLO)) {
            // written only when set, so files without tls_routes read back as they were
            @SuppressWarnings("unchecked")
            Map<String, Object> timeouts = (Map<String, Object>) out.get("timeout");
            timeouts.put("client_hello", Durations.format(timeout.clientHello()));
        }
        if (!timeout.maxLifetime().isZero()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> timeouts = (Map<String, Object>) out.get("timeout");
            timeouts.put("max_lifetime", Durations.format(timeout.maxLifetime()));
        }
        return out;
    }

    /** Whole rates as integers ({@code 1000}, not {@code 1000.0}), as an operator writes them. */
    private static Number number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? (Number) (long) value : (Number) value;
    }

    /** An ordered map from alternating keys and values. */
    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }
}
