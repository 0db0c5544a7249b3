package dev.aegis.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON answers (compact, keys in the order the handlers put them) and holds the one
 * {@link ObjectMapper} of the admin API, thread-safe once configured. Request bodies are read
 * strictly: a key twice or anything after the value is a 400.
 *
 * <p>Memory: the answers are maps, lists, strings, numbers and booleans, which jackson-core's
 * generator writes as they are, byte for byte what the mapper would write. The mapper (databind's
 * serializers, ~330 classes, about 5 MB of RSS once loaded) is built only for a request body to
 * read or a value of another type, so a proxy whose API only answers GETs, such as
 * {@code /status} polled by the dashboard, never loads it (README "Memory").
 */
final class JsonResponses {

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonResponses() {
    }

    /** The mapper, built at its first use (the holder class is initialized then). */
    static ObjectMapper mapper() {
        return Mapper.INSTANCE;
    }

    private static final class Mapper {
        static final ObjectMapper INSTANCE = new ObjectMapper()
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /** {@code body} as compact JSON. */
    static byte[] bytes(Object body) throws IOException {
        if (!plain(body, 0)) {
            return mapper().writeValueAsBytes(body);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            write(json, body);
        }
        return out.toByteArray();
    }

    /** True when {@link #write} writes all of {@code value} as the mapper would. */
    private static boolean plain(Object value, int depth) {
        if (depth > 64) {
            return false; // let the mapper meet whatever this is
        }
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Integer
                || value instanceof Long || value instanceof Double || value instanceof Float
                || value instanceof BigDecimal || value instanceof BigInteger) {
            return true;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String) || !plain(e.getValue(), depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        if (value instanceof List<?> list) {
            for (Object item : list) {
                if (!plain(item, depth + 1)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private static void write(JsonGenerator json, Object value) throws IOException {
        switch (value) {
            case null -> json.writeNull();
            case String s -> json.writeString(s);
            case Boolean b -> json.writeBoolean(b);
            case Integer i -> json.writeNumber(i);
            case Long l -> json.writeNumber(l);
            case Double d -> json.writeNumber(d);
            case Float f -> json.writeNumber(f);
            case BigDecimal d -> json.writeNumber(d);
            case BigInteger i -> json.writeNumber(i);
            case Map<?, ?> map -> {
                json.writeStartObject();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    json.writeFieldName((String) e.getKey());
                    write(json, e.getValue());
                }
                json.writeEndObject();
            }
            case Collection<?> list -> {
                json.writeStartArray();
                for (Object item : list) {
                    write(json, item);
                }
                json.writeEndArray();
            }
            default -> throw new IllegalStateException("not plain JSON: " + value.getClass());
        }
    }

    /** Sends {@code body} as JSON with {@code status}, and ends the exchange. */
    static void send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = bytes(body);
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
