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
 * has no active health check (only its circuit breaker protects it).
 */
final class BackendsHandler {

    private static final Set<String> FIELDS = Set.of("address", "weight", "max_connections", "pool");

    private final ProxyControl control;
    private final Supplier<ProxyStatus> status;
    private final HostResolver resolver;

    BackendsHandler(ProxyControl control, Supplier<ProxyStatus> status, HostResolver resolver) {
        this.control = control;
        this.status = status;
        this.resolver = resolver;
    }

    Reply list(ApiRequest request) {
        ProxyStatus s = status.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("backends", BackendViews.list(s.tcpPool(), BackendViews::listing));
        body.put("udp_backends", BackendViews.list(s.udpPool().orElse(null), BackendViews::listing));
        return Reply.ok(body);
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
                errors.add(name + ": unknown field (expected address, weight, max_connections, pool)");
            }
        }
        HostPort address = address(body.get("address"), errors);
        int weight = integer(body, "weight", BackendConfig.DEFAULT_WEIGHT, BackendConfig.MAX_WEIGHT, errors);
        int maxConnections = integer(body, "max_connections", 0, Integer.MAX_VALUE, errors);
        JsonNode poolNode = body.get("pool");
        boolean udp = false;
        if (poolNode != null && !poolNode.isNull() && !poolNode.isTextual()) {
            errors.add("pool: must be \"tcp\" or \"udp\", not " + poolNode);
        } else if (poolNode != null && !poolNode.isNull()) {
            udp = pool(poolNode.textValue(), errors);
        }
        if (!errors.isEmpty()) {
            throw new ApiException(400, "invalid backend: " + errors.get(0), errors);
        }
        String poolName = udp ? "udp" : "tcp";
        BackendConfig backend = new BackendConfig(address, weight, maxConnections, Optional.empty());
        if (!control.addBackend(udp, backend)) {
            throw new ApiException(409, "backend " + backend.id() + " is already in the " + poolName + " pool");
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("status", "added");
        reply.put("address", backend.id());
        reply.put("weight", weight);
        reply.put("max_connections", maxConnections);
        reply.put("pool", poolName);
        return new Reply(201, reply);
    }

    /** {@code DELETE /backends/{address}[?pool=udp]}: 200 removed (its open connections finish), 404 unknown. */
    Reply remove(ApiRequest request) {
        List<String> errors = new ArrayList<>();
        boolean udp = pool(request.query("pool").orElse("tcp"), errors);
        if (!errors.isEmpty()) {
            throw new ApiException(400, errors.get(0), errors);
        }
        String id;
        try {
            id = Addresses.parseBackend(request.pathTail()).toString(); // the same spelling as the pool's ids
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "invalid address \"" + request.pathTail() + "\": " + e.getMessage());
        }
        String poolName = udp ? "udp" : "tcp";
        if (!control.removeBackend(udp, id)) {
            throw new ApiException(404, "no backend " + id + " in the " + poolName + " pool");
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("status", "removed");
        reply.put("address", id);
        reply.put("pool", poolName);
        return Reply.ok(reply);
    }

    private HostPort address(JsonNode node, List<String> errors) {
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
            address = Addresses.parseBackend(node.textValue());
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

    /** @return true for the UDP pool; adds an error when the name is unknown or that pool does not exist */
    private boolean pool(String name, List<String> errors) {
        return switch (name) {
            case "tcp" -> false;
            case "udp" -> {
                if (status.get().udpPool().isEmpty()) {
                    errors.add("pool: there is no udp pool (proxy.listen.udp is not configured)");
                }
                yield true;
            }
            default -> {
                errors.add("pool: must be \"tcp\" or \"udp\", not \"" + name + "\"");
                yield false;
            }
        };
    }
}
