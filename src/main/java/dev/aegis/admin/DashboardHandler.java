package dev.aegis.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /dashboard}: one HTML page, its script, its style sheet and its icon, all from the jar (no
 * external scripts, styles or fonts). The page polls {@code /status} and {@code /health}, keeps
 * a few minutes of samples and draws its charts in SVG itself, plus a section per service
 * (SPEC §9, §12).
 *
 * <p>Every answer carries a strict {@code Content-Security-Policy}: only this origin's script and
 * style sheet, fetches to this origin, nothing inline, no frames. That is why the script and the
 * styles are separate resources under {@code /dashboard/} and not inline: a page that works
 * under this policy also works behind a proxy that imposes one.
 */
final class DashboardHandler implements HttpHandler {

    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record Resource(byte[] body, String contentType) {
    }

    private final Map<String, Resource> resources;

    DashboardHandler() {
        Resource page = load("dashboard.html", "text/html; charset=utf-8");
        resources = Map.of(
                "/dashboard", page,
                "/dashboard/", page,
                "/dashboard/dashboard.js", load("dashboard.js", "text/javascript; charset=utf-8"),
                "/dashboard/dashboard.css", load("dashboard.css", "text/css; charset=utf-8"),
                // named by the page, so the browser does not ask for /favicon.ico (a 404 in the console)
                "/dashboard/favicon.svg", load("favicon.svg", "image/svg+xml"));
    }

    private static Resource load(String name, String contentType) {
        try (InputStream in = DashboardHandler.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " missing from the jar");
            }
            return new Resource(in.readAllBytes(), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Resource resource = resources.get(path);
            if (resource == null) {
                JsonResponses.send(exchange, 404, JsonResponses.error("no such endpoint: " + path, List.of()));
                return;
            }
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                JsonResponses.send(exchange, 405, JsonResponses.error("method not allowed: "
                        + exchange.getRequestMethod() + " " + path, List.of()));
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", resource.contentType());
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            exchange.getResponseHeaders().set("Content-Security-Policy", CSP);
            exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : resource.body().length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(resource.body());
                }
            }
        }
    }
}
