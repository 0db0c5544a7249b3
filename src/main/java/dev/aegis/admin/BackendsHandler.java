package dev.aegis.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.config.Addresses;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.HostResolver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code GET /backends}, {@code POST /backends} and {@code DELETE /backends/{address}}. Backends
 * added or removed here live until the next reload, which returns to the file. An added backend
 * has no active health check (only its circuit breaker protects it). Each listed backend says
 * where it came from ({@code "source"}: {@code config}, {@code dns} or {@code api}); a discovered
 * one that is deleted here comes back at the next DNS refresh if DNS still gives it.
 */
final class BackendsHandler {

    private static final Set<String> FIELDS = Set.of("address", "weight", "max_connections", "pool", "service");

    private final ProxyControl control;
    private final Supplier<ProxyStatus> status;
    private final HostResolver resolver;

    BackendsHandler(ProxyControl control, Supplier<ProxyStatus> status, HostResolver resolver) {
        this.control = control;
        this.status = status;
        this.resolver = resolver;
    }

    /**
     * {@code GET /backends[?service=NAME]}: one service's pools; without a name and with several
     * services, every service's backends, each with its {@code service}.
     */
    Reply list(ApiRequest request) {
        ProxyStatus s = status.get();
        Optional<String> name = request.query("service");
        Map<String, Object> body = new LinkedHashMap<>();
        if (name.isPresent() || s.services().size() == 1) {
            ProxyStatus.ServiceStatus one = ServiceChoice.pick(s, name);
            body.put("backends", BackendViews.list(one.tcpPool(), BackendViews::listing));
            body.put("udp_backends", BackendViews.list(one.udpPool().orElse(null), BackendViews::listing));
            if (!one.tlsPools().isEmpty()) {
                body.put("tls_routes", BackendViews.tlsRoutes(one, BackendViews::listing));
            }
            return Reply.ok(body);
        }
        List<Map<String, Object>> tcp = new ArrayList<>();
        List<Map<String, Object>> udp = new ArrayList<>();
        for (ProxyStatus.ServiceStatus one : s.services()) {
            for (Map<String, Object> b : BackendViews.list(one.tcpPool(), BackendViews::listing)) {
                tcp.add(withService(one.name(), b));
            }
            for (Map<String, Object> b : BackendViews.list(one.udpPool().orElse(null), BackendViews::listing)) {
                udp.add(withService(one.name(), b));
            }
        }
        body.put("backends", tcp);
        body.put("udp_backends", udp);
        List<Map<String, Object>> routes = new ArrayList<>();
        for (ProxyStatus.ServiceStatus one : s.services()) {
            for (Map<String, Object> route : BackendViews.tlsRoutes(one, BackendViews::listing)) {
                routes.add(withService(one.name(), route));
            }
        }
        if (!routes.isEmpty()) {
            body.put("tls_routes", routes);
        }
        return Reply.ok(body);
    }

    private static Map<String, Object> withService(String service, Map<String, Object> backend) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("service", service);
        m.putAll(backend);
        return m;
    }

    /**
     * Body {@code {"address":"host:port","weight":100,"max_connections":0,"pool":"tcp"}}; only the
     * address is required. 201 added, 400 invalid (every problem listed), 409 already in the pool.
     */
    Reply add(ApiRequest request) {
        ObjectNode body = request.jsonObject();
        List<String> errors = new ArrayList<>();
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                errors.add(name + ": unknown field (expected address, weight, max_connections, pool, service)");
            }
        }
        JsonNode serviceNode = body.get("service");
        if (serviceNode != null && !serviceNode.isNull() && !serviceNode.isTextual()) {
            throw new ApiException(400, "invalid backend: service: must be a service name, not " + serviceNode);
        }
        ProxyStatus.ServiceStatus service = ServiceChoice.pick(status.get(),
                serviceNode == null || serviceNode.isNull() ? Optional.empty() : Optional.of(serviceNode.textValue()));
        HostPort address = address(body.get("address"), errors, portless(service));
        int weight = integer(body, "weight", BackendConfig.DEFAULT_WEIGHT, BackendConfig.MAX_WEIGHT, errors);
        int maxConnections = integer(body, "max_connections", 0, Integer.MAX_VALUE, errors);
        JsonNode poolNode = body.get("pool");
        String poolName = "tcp";
        if (poolNode != null && !poolNode.isNull() && !poolNode.isTextual()) {
            errors.add("pool: must be " + poolChoices(service) + ", not " + poolNode);
        } else if (poolNode != null && !poolNode.isNull()) {
            poolName = pool(service, poolNode.textValue(), errors);
        }
        if (!errors.isEmpty()) {
            throw new ApiException(400, "invalid backend: " + errors.get(0), errors);
        }
        BackendConfig backend = new BackendConfig(address, weight, maxConnections, Optional.empty());
        if (!control.addBackend(service.name(), poolName, backend)) {
            throw new ApiException(409, "backend " + backend.id() + " is already in the " + poolName + " pool"
                    + (status.get().services().size() > 1 ? " of service " + service.name() : ""));
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("status", "added");
        reply.put("address", backend.id());
        reply.put("weight", weight);
        reply.put("max_connections", maxConnections);
        reply.put("pool", poolName);
        reply.put("service", service.name());
        return new Reply(201, reply);
    }

    /**
     * {@code DELETE /backends/{address}[?pool=udp|tls:NAME]}: 200 removed (its open connections
     * finish), 404 unknown.
     */
    Reply remove(ApiRequest request) {
        List<String> errors = new ArrayList<>();
        ProxyStatus.ServiceStatus service = ServiceChoice.pick(status.get(), request.query("service"));
        String poolName = pool(service, request.query("pool").orElse("tcp"), errors);
        if (!errors.isEmpty()) {
            throw new ApiException(400, errors.get(0), errors);
        }
        String id;
        try {
            // the same spelling as the pool's ids; a port-less address only where add accepts one,
            // so that a typo without a port stays a 400, not a 404 for a host nobody added
            String tail = request.pathTail();
            HostPort address = portless(service) ? Addresses.parseBackendOrHost(tail) : Addresses.parseBackend(tail);
            id = new BackendConfig(address, 0, 0, Optional.empty()).id();
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "invalid address \"" + request.pathTail() + "\": " + e.getMessage());
        }
        if (!control.removeBackend(service.name(), poolName, id)) {
            throw new ApiException(404, "no backend " + id + " in the " + poolName + " pool"
                    + (status.get().services().size() > 1 ? " of service " + service.name() : ""));
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("status", "removed");
        reply.put("address", id);
        reply.put("pool", poolName);
        reply.put("service", service.name());
        return Reply.ok(reply);
    }

    /** Whether a backend of this service may leave its port out: it listens on several ports (SPEC §9). */
    private static boolean portless(ProxyStatus.ServiceStatus service) {
        return service.config().listen().ports().size() > 1;
    }

    /** @param portless whether the port may be left out (a service that listens on several ports) */
    private HostPort address(JsonNode node, List<String> errors, boolean portless) {
        if (node == null || node.isNull()) {
            errors.add("address: required (host:port)");
            return null;
        }
        if (!node.isTextual()) {
            errors.add("address: must be a string \"host:port\"");
            return null;
        }
        HostPort address;
        try {
            address = portless ? Addresses.parseBackendOrHost(node.textValue()) : Addresses.parseBackend(node.textValue());
        } catch (IllegalArgumentException e) {
            errors.add("address: " + e.getMessage());
            return null;
        }
        if (!resolver.resolves(address.host())) {
            errors.add("address: host \"" + address.host() + "\" does not resolve");
            return null;
        }
        return address;
    }

    private static int integer(ObjectNode body, String field, int absent, int max, List<String> errors) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return absent;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 0 || node.intValue() > max) {
            errors.add(field + ": must be an integer from 0 to " + max);
            return absent;
        }
        return node.intValue();
    }

    /**
     * The pool a request names: {@code tcp}, {@code udp}, or one of the service's TLS route pools
     * by the name the API lists it under ({@code tls:<first server name>}, SPEC §10).
     *
     * @return that name; adds an error when the name is unknown or that pool does not exist
     */
    private static String pool(ProxyStatus.ServiceStatus service, String name, List<String> errors) {
        return switch (name) {
            case "tcp" -> name;
            case "udp" -> {
                if (service.udpPool().isEmpty()) {
                    errors.add("pool: there is no udp pool (" + (service.name().equals("default") ? "proxy" : service.name())
                            + ".listen.udp is not configured)");
                }
                yield name;
            }
            default -> {
                if (service.tlsPools().stream().noneMatch(pool -> pool.name().equals(name))) {
                    errors.add("pool: must be " + poolChoices(service) + ", not \"" + name + "\"");
                    yield "tcp";
                }
                yield name;
            }
        };
    }

    /** {@code "tcp" or "udp"}, and the service's TLS route pools when it has any. */
    private static String poolChoices(ProxyStatus.ServiceStatus service) {
        if (service.tlsPools().isEmpty()) {
            return "\"tcp\" or \"udp\"";
        }
        StringBuilder b = new StringBuilder("\"tcp\", \"udp\" or a TLS route's pool (");
        for (int i = 0; i < service.tlsPools().size(); i++) {
            b.append(i == 0 ? "" : ", ").append('"').append(service.tlsPools().get(i).name()).append('"');
        }
        return b.append(')').toString();
    }
}
