package dev.aegis.admin;

import com.sun.net.httpserver.HttpExchange;
import dev.aegis.json.JsonWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes JSON answers (compact, UTF-8, with {@link JsonWriter}). */
final class JsonResponses {

    private JsonResponses() {
    }

    /** Sends {@code body} as JSON with {@code status}, and ends the exchange. */
    static void send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = JsonWriter.write(body).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length + 1L);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
            out.write('\n'); // curl users get their prompt back on its own line
        }
    }

    /** The error body every failure answers with: {@code {"error": message}}, plus {@code errors} if any. */
    static Map<String, Object> error(String message, List<String> errors) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        if (!errors.isEmpty()) {
            body.put("errors", errors);
        }
        return body;
    }
}
