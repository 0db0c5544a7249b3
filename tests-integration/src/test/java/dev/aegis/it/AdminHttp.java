package dev.aegis.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small JSON client for the admin API and the metrics endpoint of one Aegis. */
final class AdminHttp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    /** One answer: status, headers and body, with the body parsed as JSON when it is JSON. */
    record Answer(int status, HttpResponse<String> response) {
        String body() {
            return response.body();
        }

        JsonNode json() {
            try {
                return JSON.readTree(response.body());
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + response.body(), e);
            }
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        @Override
        public String toString() {
            return status + " " + response.body();
        }
    }

    AdminHttp(InetSocketAddress address) {
        this.base = "http://" + address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), null);
    }

    Answer get(String path, String accept) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Accept", accept).GET(), null);
    }

    Answer post(String path, String jsonBody, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .POST(jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody))
                .header("Content-Type", "application/json");
        return send(b, token);
    }

    Answer post(String path, String jsonBody) {
        return post(path, jsonBody, null);
    }

    Answer delete(String path, String token) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), token);
    }

    Answer delete(String path) {
        return delete(path, null);
    }

    Answer method(String method, String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).method(method, HttpRequest.BodyPublishers.noBody()), null);
    }

    private Answer send(HttpRequest.Builder b, String token) {
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Does this address answer {@code GET /health} as an admin API (not a refusal or a 404)? */
    static boolean answers(InetSocketAddress address) {
        try {
            int status = new AdminHttp(address).get("/health").status();
            return status == 200 || status == 503;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
