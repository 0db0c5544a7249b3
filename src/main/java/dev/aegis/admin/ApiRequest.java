package dev.aegis.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** One admin API request as the endpoints see it: the part of the path after the route, the query, the body. */
final class ApiRequest {

    /** The largest request body read; a bigger one is answered 413 without reading past this. */
    static final int MAX_BODY = 64 * 1024;

    private final HttpExchange exchange;
    private final String pathTail;

    ApiRequest(HttpExchange exchange, String pathTail) {
        this.exchange = exchange;
        this.pathTail = pathTail;
    }

    /** For a prefix route ({@code /backends/{address}}): the rest of the path, percent-decoded. */
    String pathTail() {
        return pathTail;
    }

    /** A query parameter, percent-decoded; the first one if repeated. @throws ApiException 400 on a bad escape */
    Optional<String> query(String name) {
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw == null) {
            return Optional.empty();
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (decode(eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
                return Optional.of(eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        return Optional.empty();
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "invalid query: " + e.getMessage());
        }
    }

    /**
     * The body as a JSON object.
     *
     * @throws ApiException 413 when the body is over {@link #MAX_BODY} (by its Content-Length,
     *                      or after reading one byte more than the limit), 400 when it is not a JSON object
     */
    ObjectNode jsonObject() {
        byte[] body = body();
        JsonNode node;
        try {
            node = JsonResponses.mapper().readTree(body);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!(node instanceof ObjectNode object)) {
            throw new ApiException(400, "the body must be a JSON object");
        }
        return object;
    }

    private byte[] body() {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null && tooLong(length)) {
            throw tooLarge();
        }
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1); // chunked bodies have no length: one byte more tells
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bytes.length > MAX_BODY) {
            throw tooLarge();
        }
        return bytes;
    }

    private static boolean tooLong(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim()) > MAX_BODY;
        } catch (NumberFormatException e) {
            return false; // the HTTP server already rejected malformed lengths; read and count instead
        }
    }

    private ApiException tooLarge() {
        // The rest of the body stays unread, so the connection cannot carry another request:
        // tell the client, and the server closes it after the answer.
        exchange.getResponseHeaders().set("Connection", "close");
        return new ApiException(413, "request body larger than " + MAX_BODY + " bytes");
    }
}
