package dev.aegis.admin;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON answers (compact, keys in the order the handlers put them); the one
 * {@link ObjectMapper} of the admin API, thread-safe once configured. Request bodies are read
 * strictly: a key twice or anything after the value is a 400.
 */
final class JsonResponses {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonResponses() {
    }

    /** Sends {@code body} as JSON with {@code status}, and ends the exchange. */
    static void send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(body);
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
