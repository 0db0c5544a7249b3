package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.config.Addresses;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
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
     * The admin addresses and token of the instance a config file names. Read straight from the
     * YAML, without validating the rest: {@code aegis reload} must still reach the instance when
     * the file being reloaded is broken (the instance then reports the errors). The defaults and
     * the token's environment variable are the loader's, so that the CLI and the instance agree.
     */
    public static AdminConfig adminOf(Path configFile) throws IOException {
        return adminOf(configFile, System.getenv());
    }

    static AdminConfig adminOf(Path configFile, Map<String, String> env) throws IOException {
        Map<String, String> admin = ConfigLoader.adminSettings(configFile);
        HostPort api = address(admin, "api_address", ConfigLoader.DEFAULT_API_ADDRESS);
        HostPort metrics = address(admin, "metrics_address", ConfigLoader.DEFAULT_METRICS_ADDRESS);
        String token = env.get(ConfigLoader.API_TOKEN_ENV);
        if (token == null || token.isEmpty()) {
            token = admin.getOrDefault("api_token", "");
        }
        return new AdminConfig(api, metrics, token);
    }

    private static HostPort address(Map<String, String> admin, String key, HostPort defaultAddress) throws IOException {
        String text = admin.get(key);
        if (text == null) {
            return defaultAddress;
        }
        try {
            return Addresses.parseListener(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("admin." + key + ": " + e.getMessage());
        }
    }

    /** A command line that does not say what to do: one line for the operator, exit 2. */
    public static final class UsageError extends Exception {
        UsageError(String problem, String usage) {
            super(problem + " (usage: " + usage + ")");
        }
    }

    /**
     * A control command with its arguments checked before any file is read or request is sent,
     * so that {@code backends add X -w abc} is a usage error (exit 2), not a failed call.
     *
     * @param name    reload, drain, resume, status, health or backends
     * @param action  for backends: list, add or remove; else empty
     * @param address the backend that add or remove names, else empty
     * @param weight  the weight of add (100 unless given)
     * @param pool    tcp or udp
     */
    public record Command(String name, String action, String address, int weight, String pool) {

        private static final String BACKENDS = "aegis backends [add ADDR [-w N] [--udp] | remove ADDR [--udp]] [-c FILE]";
        private static final String ADD = "aegis backends add ADDR [-w N] [--udp] [-c FILE]";
        private static final String REMOVE = "aegis backends remove ADDR [--udp] [-c FILE]";

        /** @param args what follows the command name, {@code -c FILE} removed */
        public static Command parse(String name, List<String> args) throws UsageError {
            if (!name.equals("backends")) {
                if (!args.isEmpty()) {
                    throw new UsageError(name + " takes no argument, got \"" + args.get(0) + "\"",
                            "aegis " + name + " [-c FILE]");
                }
                return new Command(name, "", "", 0, "tcp");
            }
            if (args.isEmpty()) {
                return new Command(name, "list", "", 0, "tcp");
            }
            String action = args.get(0);
            String usage = action.equals("add") ? ADD : action.equals("remove") ? REMOVE : BACKENDS;
            if (!action.equals("add") && !action.equals("remove")) {
                throw new UsageError("backends: unknown action \"" + action + "\"", usage);
            }
            if (args.size() < 2 || args.get(1).startsWith("-")) {
                throw new UsageError("backends " + action + " needs the backend's ADDR (host:port)", usage);
            }
            int weight = 100;
            String pool = "tcp";
            for (int i = 2; i < args.size(); i++) {
                String option = args.get(i);
                if (option.equals("--udp")) {
                    pool = "udp";
                } else if (action.equals("add") && (option.equals("-w") || option.equals("--weight"))) {
                    if (i + 1 >= args.size()) {
                        throw new UsageError("backends add: " + option + " needs a weight, e.g. " + option + " 50", usage);
                    }
                    String value = args.get(++i);
                    try {
                        weight = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        throw new UsageError("backends add: " + option + " needs a whole number, got \"" + value + "\"", usage);
                    }
                } else {
                    throw new UsageError("backends " + action + ": unknown option " + option, usage);
                }
            }
            return new Command(name, action, args.get(1), weight, pool);
        }
    }

    /** Runs one checked control command. */
    public int run(Command command) {
        try {
            return switch (command.name()) {
                case "reload" -> reload();
                case "drain" -> drainOrResume("drain");
                case "resume" -> drainOrResume("resume");
                case "status" -> status();
                case "health" -> health();
                case "backends" -> backends(command);
                default -> {
                    err.println("aegis: unknown command " + command.name());
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

    private int backends(Command command) throws IOException, InterruptedException {
        if (command.action().equals("list")) {
            Answer a = call("GET", "backends", null);
            if (a.status != 200) {
                return failed(a);
            }
            printBackends(a.body.path("backends"), a.body.path("udp_backends"),
                    "circuit_state", "total_requests", "failed_requests");
            return OK;
        }
        String address = command.address();
        if (command.action().equals("add")) {
            int weight = command.weight();
            String pool = command.pool();
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
        String pool = command.pool().equals("udp") ? "?pool=udp" : "";
        Answer a = call("DELETE", "backends/" + URLEncoder.encode(address, StandardCharsets.UTF_8) + pool, null);
        if (a.status == 200) {
            out.println("removed " + address + "; its open connections finish");
            return OK;
        }
        return failed(a);
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
