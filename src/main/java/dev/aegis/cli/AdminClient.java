package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.config.AdminConfig;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The control commands of {@code bin/aegis} ({@code reload}, {@code drain}, {@code resume},
 * {@code status}, {@code health}, {@code backends}): calls to the admin API of the instance named
 * by the config file, printed for a person rather than as JSON. Exit codes follow SPEC §2: 0 ok,
 * 1 when the instance cannot be reached or refused the request (a rejected reload, a down pool).
 */
public final class AdminClient {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final PrintStream out;
    private final PrintStream err;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public AdminClient(AdminConfig admin, PrintStream out, PrintStream err) {
        HostPort a = admin.apiAddress();
        String host = a.host().equals("0.0.0.0") || a.host().isEmpty() ? "127.0.0.1"
                : a.host().equals("::") ? "::1" : a.host();
        this.base = URI.create("http://" + new HostPort(host, a.port()) + "/");
        this.token = admin.apiToken();
        this.out = out;
        this.err = err;
    }

    /**
     * The admin address and token of the instance a config file names. Read straight from the
     * YAML, without validating the rest: {@code aegis reload} must still reach the instance when
     * the file being reloaded is broken (the instance then reports the errors).
     */
    public static AdminConfig adminOf(java.nio.file.Path configFile) throws IOException {
        Map<String, String> admin = ConfigLoader.adminSettings(configFile);
        String address = admin.getOrDefault("api_address", "127.0.0.1:9090");
        HostPort api;
        try {
            api = dev.aegis.config.Addresses.parseListener(address);
        } catch (IllegalArgumentException e) {
            throw new IOException("admin.api_address: " + e.getMessage());
        }
        String token = System.getenv("AEGIS_API_TOKEN");
        if (token == null || token.isEmpty()) {
            token = admin.getOrDefault("api_token", "");
        }
        return new AdminConfig(api, api, token);
    }

    /** Runs one control command; {@code args} are what follows the command name, options removed. */
    public int run(String command, java.util.List<String> args) {
        try {
            return switch (command) {
                case "reload" -> reload();
                case "drain" -> drainOrResume("drain");
                case "resume" -> drainOrResume("resume");
                case "status" -> status();
                case "health" -> health();
                case "backends" -> backends(args);
                default -> {
                    err.println("aegis: unknown command " + command);
                    yield USAGE;
                }
            };
        } catch (ConnectException e) {
            err.println("aegis: cannot reach the admin API at " + base + " (is Aegis running?)");
            return FAILED;
        } catch (IOException e) {
            err.println("aegis: admin API at " + base + ": " + e.getMessage());
            return FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        }
    }

    private int reload() throws IOException, InterruptedException {
        Answer a = call("POST", "reload", null);
        if (a.status == 200) {
            out.println("reloaded: generation " + a.body.path("generation").asLong());
            return OK;
        }
        if (a.body.has("errors")) {
            err.println("reload rejected, the running config stays:");
            for (JsonNode e : a.body.get("errors")) {
                err.println("  " + e.asText());
            }
        } else {
            err.println("reload failed: HTTP " + a.status + " " + a.body.path("error").asText());
        }
        return FAILED;
    }

    private int drainOrResume(String what) throws IOException, InterruptedException {
        Answer a = call("POST", what, null);
        if (a.status != 200) {
            return failed(a);
        }
        out.println(a.body.path("draining").asBoolean()
                ? "draining: new connections and sessions are refused; open ones carry on"
                : "accepting new connections");
        return OK;
    }

    private int health() throws IOException, InterruptedException {
        Answer a = call("GET", "health", null);
        String status = a.body.path("status").asText("unknown");
        out.println("status: " + status);
        printHealthPool("tcp", a.body.path("backends"));
        printHealthPool("udp", a.body.path("udp_backends"));
        return a.status == 200 ? OK : FAILED;
    }

    private void printHealthPool(String pool, JsonNode backends) {
        for (Map.Entry<String, JsonNode> e : backends.properties()) {
            out.printf("  %-4s %-28s %s%n", pool, e.getKey(), e.getValue().asBoolean() ? "up" : "DOWN");
        }
    }

    private int status() throws IOException, InterruptedException {
        Answer a = call("GET", "status", null);
        if (a.status != 200) {
            return failed(a);
        }
        JsonNode s = a.body;
        out.printf("aegis %s, up %s, config %s (generation %d)%s%n",
                s.path("version").asText(), uptime(s.path("uptime_seconds").asLong()),
                s.path("config_file").asText(), s.path("generation").asLong(),
                s.path("draining").asBoolean() ? ", DRAINING" : "");
        JsonNode l = s.path("listeners");
        out.printf("listeners: tcp %s, udp %s; algorithm %s%n",
                l.path("tcp").asText("-"), l.path("udp").asText("-"), s.path("algorithm").asText());
        out.printf("connections: %d active, %d total; udp sessions: %d%n",
                s.path("active_connections").asLong(), s.path("total_connections").asLong(),
                s.path("udp_sessions").asLong());
        printBackends(s.path("backends"), s.path("udp_backends"), "circuit", "total_connections", "failures");
        return OK;
    }

    private int backends(java.util.List<String> args) throws IOException, InterruptedException {
        if (args.isEmpty()) {
            Answer a = call("GET", "backends", null);
            if (a.status != 200) {
                return failed(a);
            }
            printBackends(a.body.path("backends"), a.body.path("udp_backends"),
                    "circuit_state", "total_requests", "failed_requests");
            return OK;
        }
        String verb = args.get(0);
        if (verb.equals("add") && args.size() >= 2) {
            String address = args.get(1);
            int weight = 100;
            String pool = "tcp";
            for (int i = 2; i < args.size(); i++) {
                switch (args.get(i)) {
                    case "-w", "--weight" -> weight = Integer.parseInt(args.get(++i));
                    case "--udp" -> pool = "udp";
                    default -> {
                        err.println("aegis: backends add: unknown option " + args.get(i));
                        return USAGE;
                    }
                }
            }
            Map<String, Object> request = new LinkedHashMap<>(); // the field order of the API's documentation
            request.put("address", address);
            request.put("weight", weight);
            request.put("pool", pool);
            String body = JSON.writeValueAsString(request);
            Answer a = call("POST", "backends", body);
            if (a.status == 201) {
                out.println("added " + address + " (weight " + weight + ", pool " + pool
                        + "); it lasts until the next reload, which returns to the file");
                return OK;
            }
            return failed(a);
        }
        if (verb.equals("remove") && args.size() >= 2) {
            String pool = args.size() >= 3 && args.get(2).equals("--udp") ? "?pool=udp" : "";
            Answer a = call("DELETE", "backends/" + URLEncoder.encode(args.get(1), StandardCharsets.UTF_8) + pool, null);
            if (a.status == 200) {
                out.println("removed " + args.get(1) + "; its open connections finish");
                return OK;
            }
            return failed(a);
        }
        err.println("usage: aegis backends [add ADDR [-w N] [--udp] | remove ADDR [--udp]]");
        return USAGE;
    }

    private void printBackends(JsonNode tcp, JsonNode udp, String circuitKey, String totalKey, String failuresKey) {
        out.printf("%-4s %-28s %6s %-7s %-9s %7s %9s %8s%n",
                "POOL", "BACKEND", "WEIGHT", "HEALTHY", "CIRCUIT", "ACTIVE", "TOTAL", "FAILURES");
        for (String pool : new String[] {"tcp", "udp"}) {
            for (JsonNode b : pool.equals("tcp") ? tcp : udp) {
                out.printf("%-4s %-28s %6d %-7s %-9s %7d %9d %8d%n", pool, b.path("address").asText(),
                        b.path("weight").asInt(), b.path("healthy").asBoolean() ? "yes" : "NO",
                        b.path(circuitKey).asText(), b.path("active_connections").asLong(),
                        b.path(totalKey).asLong(), b.path(failuresKey).asLong());
            }
        }
    }

    private int failed(Answer a) {
        err.println("aegis: HTTP " + a.status + ": " + a.body.path("error").asText(a.body.toString()));
        return FAILED;
    }

    private static String uptime(long seconds) {
        return seconds >= 86400 ? (seconds / 86400) + "d" + (seconds % 86400 / 3600) + "h"
                : seconds >= 3600 ? (seconds / 3600) + "h" + (seconds % 3600 / 60) + "m"
                : seconds >= 60 ? (seconds / 60) + "m" + (seconds % 60) + "s"
                : seconds + "s";
    }

    private record Answer(int status, JsonNode body) {
    }

    private Answer call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (!token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json;
        try {
            json = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            json = JSON.createObjectNode().put("error", r.body());
        }
        return new Answer(r.statusCode(), json);
    }
}
