package dev.aegis.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps method and path to an {@link Endpoint}, and gives every refusal its JSON body: unknown
 * path 404, wrong method 405 with {@code Allow}, state-changing request without the bearer token
 * 401, and whatever {@link ApiException} an endpoint throws. Checked in that order, so a request
 * is authorised before its body is read.
 */
final class Router implements HttpHandler {

    private static final Logger log = LoggerFactory.getLogger(Router.class);

    /** @param prefix true: the route matches {@code path} followed by at least one more character */
    private record Route(String path, boolean prefix, Map<String, Endpoint> methods) {

        String tail(String requestPath) {
            if (prefix) {
                return requestPath.length() > path.length() && requestPath.startsWith(path)
                        ? requestPath.substring(path.length()) : null;
            }
            return requestPath.equals(path) ? "" : null;
        }
    }

    private final List<Route> routes = new ArrayList<>();
    private final BearerAuth auth;

    Router(BearerAuth auth) {
        this.auth = auth;
    }

    /** Adds {@code method path}; a path ending in {@code /} matches everything below it. */
    Router on(String method, String path, Endpoint endpoint) {
        boolean prefix = path.length() > 1 && path.endsWith("/");
        Route route = routes.stream().filter(r -> r.path.equals(path)).findFirst().orElseGet(() -> {
            Route r = new Route(path, prefix, new LinkedHashMap<>());
            routes.add(r);
            return r;
        });
        route.methods.put(method, endpoint);
        return this;
    }

    @Override
    public void handle(HttpExchange exchange) {
        try (exchange) {
            Reply reply;
            try {
                reply = dispatch(exchange);
            } catch (ApiException e) {
                reply = new Reply(e.status(), JsonResponses.error(e.getMessage(), e.errors()));
            } catch (UncheckedIOException e) {
                log.debug("admin request failed reading its body path={} error=\"{}\"",
                        exchange.getRequestURI().getPath(), e.getCause().toString());
                return; // the client went away: nobody to answer
            } catch (RuntimeException e) {
                log.error("admin request failed method={} path={}", exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(), e);
                reply = new Reply(500, JsonResponses.error("internal error: " + e, List.of()));
            }
            JsonResponses.send(exchange, reply.status(), reply.body());
        } catch (IOException e) {
            log.debug("admin response not sent path={} error=\"{}\"", exchange.getRequestURI().getPath(), e.toString());
        }
    }

    private Reply dispatch(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        for (Route route : routes) {
            String tail = route.tail(path);
            if (tail == null) {
                continue;
            }
            Endpoint endpoint = route.methods.get(method);
            if (endpoint == null) {
                String allow = String.join(", ", route.methods.keySet());
                exchange.getResponseHeaders().set("Allow", allow);
                throw new ApiException(405, "method " + method + " not allowed on " + path + " (allowed: " + allow + ")");
            }
            if (!method.equals("GET") && !auth.permits(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"aegis\"");
                throw new ApiException(401, "missing or wrong bearer token (Authorization: Bearer <admin.api_token>)");
            }
            return endpoint.handle(new ApiRequest(exchange, tail));
        }
        throw new ApiException(404, "no such endpoint: " + path);
    }
}
