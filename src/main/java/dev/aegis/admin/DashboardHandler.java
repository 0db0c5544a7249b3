package dev.aegis.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code GET /dashboard}: one self-contained HTML page (no external scripts, styles or fonts)
 * that shows health, backends, circuits and connections, a section per service (SPEC §9),
 * refreshing itself from the {@code services} of {@code /status} and {@code /health}. The page is
 * read once from the jar.
 */
final class DashboardHandler implements HttpHandler {

    private final byte[] page;

    DashboardHandler() {
        try (InputStream in = DashboardHandler.class.getResourceAsStream("dashboard.html")) {
            if (in == null) {
                throw new IllegalStateException("dashboard.html missing from the jar");
            }
            page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/dashboard") && !path.equals("/dashboard/")) {
                JsonResponses.send(exchange, 404, JsonResponses.error("no such endpoint: " + path, List.of()));
                return;
            }
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                JsonResponses.send(exchange, 405, JsonResponses.error("method not allowed: "
                        + exchange.getRequestMethod() + " " + path, List.of()));
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : page.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(page);
                }
            }
        }
    }
}
