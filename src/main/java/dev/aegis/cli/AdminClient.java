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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control commands of {@code bin/aegis} ({@code reload}, {@code drain}, {@code resume},
 * {@code status}, {@code health}, {@code backends}): calls to the admin API of the instance named
 * by the config file, printed for a person rather than as JSON. With several services (SPEC §9)
 * {@code status} and {@code health} show a section per service and {@code backends} a SERVICE
 * column; {@code --service NAME} picks the service of {@code backends} and {@code drain}/{@code resume}.
 * The pools of TLS routes (SPEC §10) show as rows of pool {@code tls:<first server name>}, and
 * {@code backends add|remove --pool tls:NAME} changes one.
 * Exit codes follow SPEC §2: 0 ok, 1 when the instance cannot be reached or refused the request
 * (a rejected reload, a down pool, a mutation that names no service where several run).
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
     * @param pool    tcp, udp ({@code --udp}) or a TLS route's pool ({@code --pool tls:NAME})
     * @param service the service that {@code --service} names (SPEC §9), empty for none: backends
     *                and drain/resume; the admin API wants it when several services run
     */
    public record Command(String name, String action, String address, int weight, String pool, String service) {

        private static final String BACKENDS =
                "aegis backends [--service NAME] [add ADDR [-w N] [--udp | --pool P] | remove ADDR [--udp | --pool P]] [-c FILE]";
        private static final String ADD = "aegis backends add ADDR [-w N] [--udp | --pool P] [--service NAME] [-c FILE]";
        private static final String REMOVE = "aegis backends remove ADDR [--udp | --pool P] [--service NAME] [-c FILE]";

        /** @param args what follows the command name, {@code -c FILE} removed */
        public static Command parse(String name, List<String> args) throws UsageError {
            if (name.equals("drain") || name.equals("resume")) {
                String usage = "aegis " + name + " [--service NAME] [-c FILE]";
                String service = "";
                for (int i = 0; i < args.size(); i++) {
                    if (!args.get(i).equals("--service")) {
                        throw new UsageError(name + ": unknown argument \"" + args.get(i) + "\"", usage);
                    }
                    service = serviceName(name, args, ++i, usage);
                }
                return new Command(name, "", "", 0, "tcp", service);
            }
            if (!name.equals("backends")) {
                if (!args.isEmpty()) {
                    throw new UsageError(name + " takes no argument, got \"" + args.get(0) + "\"",
                            "aegis " + name + " [-c FILE]");
                }
                return new Command(name, "", "", 0, "tcp", "");
            }
            if (args.size() > 2 && args.get(0).equals("--service") && !args.get(2).startsWith("-")) {
                // backends --service NAME add|remove ADDR ...: the service may come first, as the usage shows
                String service = serviceName("backends", args, 1, BACKENDS);
                List<String> rest = new java.util.ArrayList<>(args.subList(2, args.size()));
                rest.add("--service");
                rest.add(service);
                return parse(name, rest);
            }
            if (args.isEmpty() || args.get(0).startsWith("-")) {
                return list(args);
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
            String service = "";
            for (int i = 2; i < args.size(); i++) {
                String option = args.get(i);
                if (option.equals("--udp")) {
                    pool = "udp";
                } else if (option.equals("--pool")) {
                    // tcp, udp or tls:NAME; the API says whether the service has that pool
                    if (i + 1 >= args.size() || args.get(i + 1).isEmpty() || args.get(i + 1).startsWith("-")) {
                        throw new UsageError("backends " + action + ": --pool needs a pool, e.g. --pool tls:api.example.com",
                                usage);
                    }
                    pool = args.get(++i);
                } else if (option.equals("--service")) {
                    service = serviceName("backends " + action, args, ++i, usage);
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
            return new Command(name, action, args.get(1), weight, pool, service);
        }

        /** {@code backends [--service NAME]}: the list, of one service or of all. */
        private static Command list(List<String> args) throws UsageError {
            String service = "";
            for (int i = 0; i < args.size(); i++) {
                if (!args.get(i).equals("--service")) {
                    throw new UsageError("backends: unknown option " + args.get(i), BACKENDS);
                }
                service = serviceName("backends", args, ++i, BACKENDS);
            }
            return new Command("backends", "list", "", 0, "tcp", service);
        }

        /** The value after {@code --service}; the API itself says whether such a service runs. */
        private static String serviceName(String what, List<String> args, int i, String usage) throws UsageError {
            if (i >= args.size() || args.get(i).startsWith("-") || args.get(i).isEmpty()) {
                throw new UsageError(what + ": --service needs a service name, e.g. --service web", usage);
            }
            return args.get(i);
        }
    }

    /** Runs one checked control command. */
    public int run(Command command) {
        try {
            return switch (command.name()) {
                case "reload" -> reload();
                case "drain", "resume" -> drainOrResume(command);
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

    private int drainOrResume(Command command) throws IOException, InterruptedException {
        String what = command.name();
        String service = command.service();
        Answer a = call("POST", what + (service.isEmpty() ? "" : "?service=" + encode(service)), null);
        if (a.status != 200) {
            return failed(a);
        }
        String prefix = service.isEmpty() ? "" : "service " + service + " ";
        out.println(prefix + (a.body.path("draining").asBoolean()
                ? "draining: new connections and sessions are refused; open ones carry on"
                : "accepting new connections"));
        return OK;
    }

    /**
     * One service: the lines of SPEC §5's shape. Several: the overall status, then each service's
     * status and its backends, indented under it.
     */
    private int health() throws IOException, InterruptedException {
        Answer a = call("GET", "health", null);
        String status = a.body.path("status").asText("unknown");
        out.println("status: " + status);
        JsonNode services = a.body.path("services");
        int width = 4; // "tcp " and "udp ", wider for the pool names of TLS routes
        for (JsonNode h : services) {
            for (Map.Entry<String, JsonNode> route : h.path("tls_routes").properties()) {
                width = Math.max(width, route.getKey().length());
            }
        }
        if (services.size() > 1) {
            for (Map.Entry<String, JsonNode> service : services.properties()) {
                JsonNode h = service.getValue();
                out.println("service " + service.getKey() + ": " + h.path("status").asText("unknown"));
                printHealthPools(h, width);
            }
        } else {
            printHealthPools(a.body, width);
        }
        return a.status == 200 ? OK : FAILED;
    }

    private void printHealthPools(JsonNode health, int width) {
        printHealthPool("tcp", health.path("backends"), width);
        printHealthPool("udp", health.path("udp_backends"), width);
        for (Map.Entry<String, JsonNode> route : health.path("tls_routes").properties()) {
            printHealthPool(route.getKey(), route.getValue(), width);
        }
    }

    private void printHealthPool(String pool, JsonNode backends, int width) {
        for (Map.Entry<String, JsonNode> e : backends.properties()) {
            out.printf("  %-" + width + "s %-28s %s%n", pool, e.getKey(), e.getValue().asBoolean() ? "up" : "DOWN");
        }
    }

    /** One service: as before SPEC §9. Several: the process-wide lines, then a section per service. */
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
        JsonNode services = s.path("services");
        if (services.size() <= 1) {
            JsonNode one = services.size() == 1 ? services.get(0) : s;
            out.printf("listeners: %s; algorithm %s%n", listeners(one.path("listeners")), one.path("algorithm").asText());
            out.printf("connections: %d active, %d total; udp sessions: %d%n",
                    s.path("active_connections").asLong(), s.path("total_connections").asLong(),
                    s.path("udp_sessions").asLong());
            printBackends(one.path("backends"), one.path("udp_backends"), one.path("tls_routes"),
                    "circuit", "total_connections", "failures");
            return OK;
        }
        out.printf("services: %d; connections: %d active, %d total; udp sessions: %d%n", services.size(),
                s.path("active_connections").asLong(), s.path("total_connections").asLong(),
                s.path("udp_sessions").asLong());
        for (JsonNode one : services) {
            out.println();
            out.printf("service %s%s: %s; algorithm %s%n", one.path("name").asText(),
                    one.path("draining").asBoolean() ? " (DRAINING)" : "",
                    listeners(one.path("listeners")), one.path("algorithm").asText());
            out.printf("  connections: %d active, %d total; udp sessions: %d%n",
                    one.path("active_connections").asLong(), one.path("total_connections").asLong(),
                    one.path("udp_sessions").asLong());
            // the pools /health judges the service by: a UDP-only service's TCP pool serves nobody
            JsonNode l = one.path("listeners");
            boolean udpListens = !l.path("udp").isNull() && !l.path("udp").isMissingNode();
            boolean tcpListens = !l.path("tcp").isNull() && !l.path("tcp").isMissingNode();
            JsonNode none = JSON.createArrayNode();
            printBackends(tcpListens || !udpListens ? one.path("backends") : none,
                    udpListens ? one.path("udp_backends") : none, one.path("tls_routes"),
                    "circuit", "total_connections", "failures");
        }
        return OK;
    }

    /** {@code tcp 127.0.0.1:8080, udp -}: each protocol's listeners, a run of ports as a range. */
    static String listeners(JsonNode listeners) {
        return "tcp " + addresses(listeners.path("tcp")) + ", udp " + addresses(listeners.path("udp"));
    }

    /**
     * One address, or a list of them (a service listening on several) with consecutive ports of
     * one host written as {@code host:first-last}, so a 21-port range is one item, not 21.
     */
    private static String addresses(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (!node.isArray() || node.isEmpty()) {
            return "-";
        }
        List<String> items = new ArrayList<>();
        String host = null;
        int first = -1;
        int last = -1;
        for (JsonNode n : node) {
            String a = n.asText();
            int colon = a.lastIndexOf(':');
            int port = -1;
            try {
                port = Integer.parseInt(a.substring(colon + 1));
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                // not host:port: shown as it is
            }
            String h = colon < 0 ? a : a.substring(0, colon);
            if (port >= 0 && h.equals(host) && port == last + 1) {
                last = port;
                continue;
            }
            if (host != null) {
                items.add(host + ":" + (first == last ? first : first + "-" + last));
            }
            if (port < 0) {
                items.add(a);
                host = null;
            } else {
                host = h;
                first = port;
                last = port;
            }
        }
        if (host != null) {
            items.add(host + ":" + (first == last ? first : first + "-" + last));
        }
        return String.join(",", items);
    }

    private int backends(Command command) throws IOException, InterruptedException {
        String service = command.service();
        if (command.action().equals("list")) {
            Answer a = call("GET", "backends" + (service.isEmpty() ? "" : "?service=" + encode(service)), null);
            if (a.status != 200) {
                return failed(a);
            }
            printBackends(a.body.path("backends"), a.body.path("udp_backends"), a.body.path("tls_routes"),
                    "circuit_state", "total_requests", "failed_requests");
            return OK;
        }
        String address = command.address();
        String ofService = service.isEmpty() ? "" : ", service " + service;
        if (command.action().equals("add")) {
            int weight = command.weight();
            String pool = command.pool();
            Map<String, Object> request = new LinkedHashMap<>(); // the field order of the API's documentation
            request.put("address", address);
            request.put("weight", weight);
            request.put("pool", pool);
            if (!service.isEmpty()) {
                request.put("service", service);
            }
            String body = JSON.writeValueAsString(request);
            Answer a = call("POST", "backends", body);
            if (a.status == 201) {
                out.println("added " + address + " (weight " + weight + ", pool " + pool + ofService
                        + "); it lasts until the next reload, which returns to the file");
                return OK;
            }
            return failed(a);
        }
        List<String> query = new ArrayList<>();
        if (!service.isEmpty()) {
            query.add("service=" + encode(service));
        }
        if (!command.pool().equals("tcp")) {
            query.add("pool=" + encode(command.pool()));
        }
        Answer a = call("DELETE", "backends/" + encode(address) + (query.isEmpty() ? "" : "?" + String.join("&", query)), null);
        if (a.status == 200) {
            out.println("removed " + address + (command.pool().equals("tcp") ? "" : " from pool " + command.pool())
                    + (service.isEmpty() ? "" : (command.pool().equals("tcp") ? " from" : " of") + " service " + service)
                    + "; its open connections finish");
            return OK;
        }
        return failed(a);
    }

    /** One line of the backends table: its pool, its service (null: none named) and the backend's fields. */
    private record Row(String pool, String service, JsonNode backend) {
    }

    /**
     * The backends table. Rows that carry a {@code service} (the list of every service's backends,
     * SPEC §9) get a SERVICE column in front; without one the table is the one of SPEC §5. The
     * pools of {@code routes} (a service's {@code tls_routes}) follow, one row per backend with the
     * route's pool name; the POOL column widens to fit it.
     */
    private void printBackends(JsonNode tcp, JsonNode udp, JsonNode routes,
            String circuitKey, String totalKey, String failuresKey) {
        List<Row> rows = new ArrayList<>();
        for (JsonNode b : tcp) {
            rows.add(new Row("tcp", b.has("service") ? b.path("service").asText() : null, b));
        }
        for (JsonNode b : udp) {
            rows.add(new Row("udp", b.has("service") ? b.path("service").asText() : null, b));
        }
        for (JsonNode route : routes) {
            for (JsonNode b : route.path("backends")) {
                rows.add(new Row(route.path("pool").asText(), route.has("service") ? route.path("service").asText() : null, b));
            }
        }
        int serviceWidth = 0;
        int poolWidth = 4;
        for (Row r : rows) {
            if (r.service() != null) {
                serviceWidth = Math.max(Math.max(serviceWidth, "SERVICE".length()), r.service().length());
            }
            poolWidth = Math.max(poolWidth, r.pool().length());
        }
        String service = serviceWidth == 0 ? "" : "%-" + serviceWidth + "s ";
        String pool = "%-" + poolWidth + "s ";
        String head = String.format(pool + "%-28s %6s %-7s %-9s %7s %9s %8s %s",
                "POOL", "BACKEND", "WEIGHT", "HEALTHY", "CIRCUIT", "ACTIVE", "TOTAL", "FAILURES", "SOURCE");
        out.println(serviceWidth == 0 ? head : String.format(service, "SERVICE") + head);
        if (serviceWidth > 0) {
            // a service's rows together, services in the API's order, tcp, udp, then routes within each
            List<String> order = rows.stream().map(r -> String.valueOf(r.service())).distinct().toList();
            rows.sort(Comparator.comparingInt(r -> order.indexOf(String.valueOf(r.service()))));
        }
        for (Row row : rows) {
            JsonNode b = row.backend();
            if (serviceWidth > 0) {
                out.printf(service, row.service() == null ? "-" : row.service());
            }
            // SOURCE: config, dns (discovery) or api (added at run time); "-" from a server without it
            out.printf(pool + "%-28s %6d %-7s %-9s %7d %9d %8d %s%n", row.pool(), b.path("address").asText(),
                    b.path("weight").asInt(), b.path("healthy").asBoolean() ? "yes" : "NO",
                    b.path(circuitKey).asText(), b.path("active_connections").asLong(),
                    b.path(totalKey).asLong(), b.path(failuresKey).asLong(), b.path("source").asText("-"));
        }
    }

    /** The API's error; a 400 for a missing service name also says how to give one here. */
    private int failed(Answer a) {
        String error = a.body.path("error").asText(a.body.toString());
        err.println("aegis: HTTP " + a.status + ": " + error);
        if (a.status == 400 && error.startsWith("several services")) {
            err.println("aegis: name one with --service NAME");
        }
        return FAILED;
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
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
