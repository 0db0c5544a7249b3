package dev.aegis.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.config.HealthCheckConfig.Scheme;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import dev.aegis.config.ProxyProtocolConfig.Send;
import dev.aegis.tls.ServerNameMatcher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads and validates a configuration file (SPEC §3) into an {@link AegisConfig}.
 *
 * <p>The YAML is read into a tree ({@link YamlTree}) and then walked section by section with the
 * path of every field at hand ({@link ConfigNode}). Nothing stops at the first problem: every
 * error of the file is collected and reported at once in a {@link ConfigException}, each naming
 * its path and what is wrong. Unknown keys are errors, except the original's top-level
 * {@code grpc:} section, which is accepted and ignored with a warning. Host names are resolved
 * at load time (see {@link HostResolver}), so {@code start}, {@code check} and every reload catch
 * a misspelt backend.
 */
public final class ConfigLoader {

    /** The environment variable that, when set and non-empty, overrides {@code admin.api_token}. */
    public static final String API_TOKEN_ENV = "AEGIS_API_TOKEN";

    static final long MAX_FILE_BYTES = YamlTree.MAX_CODE_POINTS;

    // Sanity bounds: values beyond them are typing mistakes (an extra zero, ms meant as s).
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(1);
    private static final Duration MAX_DURATION = Duration.ofHours(24);
    private static final int MAX_RETRIES = 100;
    private static final int MAX_CONNECTIONS = 10_000_000;
    private static final int MAX_UDP_SESSIONS = 10_000_000;
    private static final int MAX_HEALTH_THRESHOLD = 1_000;
    private static final int MAX_ERROR_THRESHOLD = 1_000_000;
    private static final double MAX_REQUESTS_PER_SECOND = 1e9;
    private static final long MAX_BURST = 1_000_000_000L;
    private static final long MAX_BYTES_PER_SECOND = 1_000_000_000_000L;
    private static final long MAX_PACKETS_PER_SECOND = 1_000_000_000L;
    private static final int MAX_UDP_RESPONSES = 1_000_000;
    private static final int MAX_QUEUE = 1_000_000;

    public static final HostPort DEFAULT_API_ADDRESS = new HostPort("127.0.0.1", 9090);
    public static final HostPort DEFAULT_METRICS_ADDRESS = new HostPort("0.0.0.0", 9091);

    private static final Map<String, Algorithm> ALGORITHMS = algorithms();
    private static final Map<String, Send> SENDS = sends();
    private static final Map<String, BackendRemoval> REMOVALS = removals();
    private static final Map<String, Scheme> SCHEMES = schemes();
    private static final Map<String, String> LEVELS = levels();

    private static final String GRPC_WARNING = "ignored: Aegis is a single process with no separate control plane";

    private final Map<String, String> env;
    private final HostResolver resolver;
    private final Findings findings = new Findings();
    /** Every address read, to resolve once the whole file has been walked. */
    private final List<AddressAt> addresses = new ArrayList<>();
    /** The addresses of the admin API and metrics servers, to catch them on a port of a listener or of each other. */
    private final List<AddressAt> tcpBinds = new ArrayList<>();
    /** Every listen entry of every service, to catch two services on one address and protocol. */
    private final List<BindAt> serviceBinds = new ArrayList<>();

    private ConfigLoader(Map<String, String> env, HostResolver resolver) {
        this.env = env;
        this.resolver = resolver;
    }

    /** Loads a file, with {@code AEGIS_API_TOKEN} taken from the process environment. */
    public static LoadedConfig load(Path file) throws ConfigException {
        return load(file, System.getenv());
    }

    /** Loads a file, with {@code AEGIS_API_TOKEN} looked up in {@code env}. */
    public static LoadedConfig load(Path file, Map<String, String> env) throws ConfigException {
        return load(file, env, HostResolver.SYSTEM);
    }

    /** Reads configuration text, with {@code AEGIS_API_TOKEN} taken from the process environment. */
    public static LoadedConfig parse(String yamlText) throws ConfigException {
        return parse(yamlText, System.getenv());
    }

    /** Reads configuration text, with {@code AEGIS_API_TOKEN} looked up in {@code env}. */
    public static LoadedConfig parse(String yamlText, Map<String, String> env) throws ConfigException {
        return parse(yamlText, env, HostResolver.SYSTEM);
    }

    /**
     * The scalars of a file's {@code admin} section as text ({@code api_address}, {@code api_token}),
     * read without validating anything else: {@code aegis reload} must reach the running instance
     * even when the file being reloaded is broken (the instance then reports the errors). A value
     * that is null or absent is left out; an empty file gives an empty map.
     *
     * @throws IOException when the file cannot be read or is not YAML at all
     */
    public static Map<String, String> adminSettings(Path file) throws IOException {
        String text = Files.readString(file);
        Findings findings = new Findings();
        JsonNode root = YamlTree.read(text.startsWith("\uFEFF") ? text.substring(1) : text, findings);
        if (root == null) {
            List<ConfigError> errors = findings.errors();
            if (errors.size() == 1 && errors.get(0).message().startsWith("the configuration is empty")) {
                return Map.of();
            }
            throw new IOException(errors.get(0).message());
        }
        Map<String, String> settings = new LinkedHashMap<>();
        JsonNode admin = root.path("admin");
        if (admin.isObject()) {
            admin.properties().forEach(entry -> {
                JsonNode value = entry.getValue();
                if (value.isTextual()) {
                    settings.put(entry.getKey(), value.textValue());
                } else if (value.isContainerNode()) {
                    settings.put(entry.getKey(), "");
                } else if (!value.isNull()) {
                    settings.put(entry.getKey(), ConfigNode.describe(value));
                }
            });
        }
        return settings;
    }

    static LoadedConfig load(Path file, Map<String, String> env, HostResolver resolver) throws ConfigException {
        return parse(readText(file), env, resolver);
    }

    static LoadedConfig parse(String yamlText, Map<String, String> env, HostResolver resolver)
            throws ConfigException {
        return new ConfigLoader(env, resolver).read(yamlText);
    }

    // ---------------------------------------------------------------- the file

    private static String readText(Path file) throws ConfigException {
        try {
            if (Files.isDirectory(file)) {
                throw fileError("cannot read " + file + ": it is a directory");
            }
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw fileError(file + " is " + size + " bytes, more than the limit of " + MAX_FILE_BYTES);
            }
            return decode(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw fileError("cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw fileError("cannot read " + file + ": permission denied");
        } catch (IOException e) {
            throw fileError("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Strict UTF-8, so that a binary file is named as such instead of read as odd YAML. */
    private static String decode(byte[] bytes) throws ConfigException {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw fileError("not a text file (NUL byte at offset " + i + ")");
            }
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw fileError("not a UTF-8 text file (invalid byte at offset " + in.position() + ")");
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    private static ConfigException fileError(String message) {
        return new ConfigException(List.of(new ConfigError(ConfigError.FILE, message)));
    }

    private LoadedConfig read(String text) throws ConfigException {
        String yaml = text.startsWith("\uFEFF") ? text.substring(1) : text;
        if (yaml.indexOf('\0') >= 0) {
            throw fileError("not a text file (it contains NUL characters)");
        }
        JsonNode tree = YamlTree.read(yaml, findings);
        if (tree != null && !tree.isObject()) {
            findings.error("", "the top level must be a map of sections (proxy or services, admin, logging, shutdown), got "
                    + ConfigNode.describe(tree));
        }
        if (tree == null || !tree.isObject()) {
            throw new ConfigException(findings.errors());
        }
        ConfigNode root = ConfigNode.root(tree, findings).keys("proxy", "services", "admin", "logging", "shutdown", "grpc");
        if (tree.has("grpc")) {
            findings.warn("grpc", GRPC_WARNING);
        }
        AegisConfig config = new AegisConfig(
                services(root),
                admin(root.get("admin")),
                logging(root.get("logging")),
                shutdown(root.get("shutdown")));
        checkPortConflicts();
        checkServiceBinds();
        resolveHosts();
        if (findings.hasErrors()) {
            throw new ConfigException(findings.errors());
        }
        return new LoadedConfig(config, findings.warnings());
    }

    // ---------------------------------------------------------------- services

    /** {@code proxy:} (one service named {@code default}) or {@code services:}, not both. */
    private List<ServiceConfig> services(ConfigNode root) {
        ConfigNode proxy = root.get("proxy");
        ConfigNode services = root.get("services");
        if (proxy.isPresent() && services.isPresent()) {
            services.error("a file has proxy: (one service) or services: (several), not both");
            return List.of();
        }
        if (!services.isPresent() && !proxy.isPresent()) {
            // Named once here: reading the absent proxy: block would report its listen and backends instead.
            proxy.error("required (one service), or services: (a list of named services) instead");
            return List.of();
        }
        if (!services.isPresent()) {
            return List.of(service(ServiceConfig.DEFAULT_NAME, proxy, "proxy"));
        }
        List<ConfigNode> entries = services.elements();
        if (services.isList() && entries.isEmpty()) {
            services.error("must list at least one service");
        }
        List<ServiceConfig> out = new ArrayList<>();
        Map<String, String> firstPathOfName = new HashMap<>();
        for (ConfigNode entry : entries) {
            if (!entry.isMap()) {
                entry.error("expected a service (a map with name, listen and backends), got " + entry.describe());
                continue;
            }
            ConfigNode nameNode = entry.get("name");
            Optional<String> text = nameNode.text();
            String name = text.orElse("");
            if (!nameNode.isPresent()) {
                nameNode.error("required: the service's name, e.g. postgres");
            } else if (text.isEmpty()) {
                // not a string: text() has said so
            } else if (!ServiceConfig.NAME.matcher(name).matches()) {
                nameNode.error("must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), got \""
                        + name + "\"");
            } else {
                String first = firstPathOfName.putIfAbsent(name, nameNode.path());
                if (first != null) {
                    nameNode.error("duplicate: " + first + " is also \"" + name + "\"");
                }
            }
            out.add(service(name, entry, entry.path()));
        }
        return out;
    }

    private ServiceConfig service(String name, ConfigNode node, String path) {
        if (path.equals("proxy")) {
            node.keys("listen", "backends", "udp_backends", "load_balancing", "traffic", "circuit_breaker", "udp",
                    "proxy_protocol", "tls_routes", "queue", "backend_removal", "discovery");
        } else {
            node.keys("name", "listen", "backends", "udp_backends", "load_balancing", "traffic", "circuit_breaker", "udp",
                    "proxy_protocol", "tls_routes", "queue", "backend_removal", "discovery");
        }
        // A service without a usable name is named by its path in the messages about its binds.
        ListenConfig listen = listen(node.get("listen"), name.isEmpty() ? path : name, path);
        boolean severalPorts = listen.ports().size() > 1;
        ConfigNode tlsNode = node.get("tls_routes");
        ConfigNode backendsNode = node.get("backends");
        ConfigNode discoveryNode = node.get("discovery");
        Optional<DiscoveryConfig> discovery = discovery(discoveryNode, severalPorts, !listen.hasTcp());
        // With tls_routes, backends is only the default pool, and may be empty (SPEC §10: no_route);
        // with discovery, DNS fills it at run time (SPEC §11).
        List<BackendConfig> backends = (tlsNode.isPresent() || discoveryNode.isPresent()) && (!backendsNode.isPresent()
                || backendsNode.isList() && backendsNode.elements().isEmpty())
                ? List.of()
                : pool(backendsNode, false, severalPorts);
        List<TlsRouteConfig> tlsRoutes = tlsRoutes(tlsNode, severalPorts);
        if (tlsNode.isPresent() && !listen.hasTcp()) {
            tlsNode.error("needs a TCP listener (" + path + ".listen.tcp): TLS routes apply to TCP connections only");
        }
        ConfigNode udpPool = node.get("udp_backends");
        List<BackendConfig> udpBackends = udpPool.isPresent() ? pool(udpPool, true, severalPorts) : List.of();
        if (udpPool.isPresent() && !listen.hasUdp() && listen.hasTcp()) {
            udpPool.warn("ignored: there is no " + path + ".listen.udp");
        }
        TrafficConfig traffic = traffic(node.get("traffic"));
        ConfigNode udpNode = node.get("udp").keys("session_timeout", "responses", "per_packet");
        ConfigNode sessionTimeout = udpNode.get("session_timeout");
        if (sessionTimeout.isPresent()) {
            if (node.get("traffic").get("timeout").get("udp_session").isPresent()) {
                sessionTimeout.error("give udp.session_timeout or traffic.timeout.udp_session, not both (they are one setting)");
            }
            TimeoutConfig t = traffic.timeout();
            traffic = new TrafficConfig(traffic.rateLimit(),
                    new TimeoutConfig(t.connect(), t.idle(), t.read(),
                            sessionTimeout.duration(t.udpSession(), MIN_TIMEOUT, MAX_DURATION), t.clientHello(),
                            t.maxLifetime()),
                    traffic.retries(), traffic.maxConnections(), traffic.udpMaxSessions());
        }
        UdpModeConfig udp = new UdpModeConfig(
                udpNode.get("responses").integer(0, 0, MAX_UDP_RESPONSES),
                udpNode.get("per_packet").bool(false));
        if (udpNode.isPresent() && !listen.hasUdp() && listen.hasTcp()) {
            udpNode.warn("ignored: there is no " + path + ".listen.udp");
        }
        return new ServiceConfig(name, listen, backends, udpBackends,
                loadBalancing(node.get("load_balancing")),
                traffic,
                circuitBreaker(node.get("circuit_breaker")),
                udp,
                proxyProtocol(node.get("proxy_protocol"), listen),
                tlsRoutes,
                queue(node.get("queue")),
                node.get("backend_removal").choice(REMOVALS, BackendRemoval.DRAIN),
                discovery);
    }

    /** {@code queue:} (SPEC §11); a timeout of 0 would reject every waiter at once, so it is at least 1ms. */
    private static QueueConfig queue(ConfigNode node) {
        node.keys("size", "timeout");
        return new QueueConfig(
                node.get("size").integer(QueueConfig.NONE.size(), 0, MAX_QUEUE),
                node.get("timeout").duration(QueueConfig.NONE.timeout(), MIN_TIMEOUT, MAX_DURATION));
    }

    /** A DNS name as discovery asks for it: dot-separated labels of letters, digits, - and _ (SRV's {@code _pg._tcp}). */
    private static final Pattern DNS_NAME = Pattern.compile(
            "([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?");
    private static final Duration MIN_REFRESH = Duration.ofMillis(100);

    /**
     * {@code discovery:} (SPEC §11). A name that does not resolve now is no error: the pool fills
     * when DNS answers, so nothing here asks DNS.
     *
     * @param portless whether A/AAAA backends may go without a port (the service listens on several ports)
     * @param udpOnly  the service has no TCP listener: the health check is a datagram
     */
    private Optional<DiscoveryConfig> discovery(ConfigNode node, boolean portless, boolean udpOnly) {
        node.keys("dns", "resolvers", "health_check", "weight");
        if (!node.isMap()) {
            return Optional.empty();
        }
        ConfigNode dns = node.get("dns").keys("names", "refresh", "port");
        if (!dns.isPresent()) {
            dns.error("required: the names to resolve, e.g. dns: { names: [\"app.service.consul\"], port: 8080 }");
        }
        ConfigNode namesNode = dns.get("names");
        List<String> names = new ArrayList<>();
        Map<String, String> firstPathOfName = new HashMap<>();
        if (dns.isMap() && !namesNode.isPresent()) {
            namesNode.error("required: at least one DNS name (A/AAAA, or SRV when it starts with _)");
        } else if (namesNode.isList() && namesNode.elements().isEmpty()) {
            namesNode.error("must list at least one DNS name (A/AAAA, or SRV when it starts with _)");
        }
        for (ConfigNode element : namesNode.elements()) {
            Optional<String> text = element.text();
            if (text.isEmpty()) {
                continue; // reported by text()
            }
            String name = text.get();
            if (name.length() > 254 || !DNS_NAME.matcher(name).matches()) {
                element.error("not a DNS name: \"" + name + "\" (labels of letters, digits, - and _, separated by dots)");
                continue;
            }
            String first = firstPathOfName.putIfAbsent(name.toLowerCase(Locale.ROOT), element.path());
            if (first != null) {
                element.error("duplicate: " + first + " is also \"" + name + "\"");
                continue;
            }
            names.add(name);
        }
        Duration refresh = dns.get("refresh").duration(DiscoveryConfig.DEFAULT_REFRESH, MIN_REFRESH, MAX_DURATION);
        ConfigNode portNode = dns.get("port");
        int port = portNode.integer(0, 1, 65_535);
        boolean needsPort = names.stream().anyMatch(n -> !DiscoveryConfig.isSrv(n));
        if (!portNode.isPresent() && needsPort && !portless) {
            portNode.error("required: the port of the backends of A/AAAA names (an SRV name, starting with _, gives its own)");
        }
        List<HostPort> resolvers = new ArrayList<>();
        for (ConfigNode element : node.get("resolvers").elements()) {
            element.address(Addresses::parseBackendOrHost)
                    .map(a -> a.port() == 0 ? a.withPort(DiscoveryConfig.DNS_PORT) : a)
                    .ifPresent(resolvers::add);
        }
        ConfigNode resolversNode = node.get("resolvers");
        if (resolversNode.isList() && resolversNode.elements().isEmpty()) {
            resolversNode.error("must list at least one DNS server (or leave resolvers out to use the system's resolver)");
        }
        Optional<HealthCheckConfig> healthCheck = healthCheck(node.get("health_check"), udpOnly);
        int weight = node.get("weight").integer(BackendConfig.DEFAULT_WEIGHT, 0, BackendConfig.MAX_WEIGHT);
        return Optional.of(new DiscoveryConfig(names, refresh, port, resolvers, healthCheck, weight));
    }

    /** {@code proxy_protocol:} (SPEC §10). */
    private ProxyProtocolConfig proxyProtocol(ConfigNode node, ListenConfig listen) {
        node.keys("send", "accept_from");
        ConfigNode sendNode = node.get("send");
        Send send = sendNode.choice(SENDS, Send.NONE);
        if (send == Send.V1 && listen.hasUdp()) {
            sendNode.error("v1 has no datagram form: use v2 (this service has a UDP listener)");
        }
        ConfigNode acceptNode = node.get("accept_from");
        List<String> cidrs = new ArrayList<>();
        for (ConfigNode element : acceptNode.elements()) {
            Optional<String> text = element.text();
            if (text.isEmpty()) {
                continue; // reported by text()
            }
            String problem = Cidrs.problem(text.get());
            if (problem != null) {
                element.error(problem);
            } else {
                cidrs.add(text.get());
            }
        }
        return new ProxyProtocolConfig(send, Cidrs.parse(cidrs));
    }

    /**
     * {@code tls_routes}: each a non-empty list of valid server names, none repeated anywhere in
     * the service, and a non-empty pool.
     */
    private List<TlsRouteConfig> tlsRoutes(ConfigNode node, boolean portless) {
        if (!node.isPresent()) {
            return List.of();
        }
        List<ConfigNode> entries = node.elements();
        if (node.isList() && entries.isEmpty()) {
            node.error("must list at least one route (or leave tls_routes out)");
        }
        List<TlsRouteConfig> routes = new ArrayList<>();
        List<List<String>> namesPerRoute = new ArrayList<>();
        List<List<ConfigNode>> nameNodesPerRoute = new ArrayList<>();
        for (ConfigNode entry : entries) {
            if (!entry.isMap()) {
                entry.error("expected a route (a map with server_names and backends), got " + entry.describe());
                continue;
            }
            entry.keys("server_names", "backends");
            ConfigNode namesNode = entry.get("server_names");
            List<String> names = new ArrayList<>();
            List<ConfigNode> nameNodes = new ArrayList<>();
            if (!namesNode.isPresent()) {
                namesNode.error("required: at least one server name (e.g. [\"api.example.com\"])");
            } else if (namesNode.isList() && namesNode.elements().isEmpty()) {
                namesNode.error("must list at least one server name");
            }
            for (ConfigNode nameNode : namesNode.elements()) {
                Optional<String> name = nameNode.text();
                if (name.isEmpty()) {
                    continue; // text() has reported it
                }
                Optional<String> problem = ServerNameMatcher.problem(name.get());
                if (problem.isPresent()) {
                    nameNode.error("\"" + name.get() + "\" " + problem.get());
                    continue;
                }
                names.add(name.get());
                nameNodes.add(nameNode);
            }
            List<BackendConfig> backends = pool(entry.get("backends"), false, portless);
            namesPerRoute.add(names);
            nameNodesPerRoute.add(nameNodes);
            if (!names.isEmpty()) {
                routes.add(new TlsRouteConfig(names, backends));
            }
        }
        for (ServerNameMatcher.Duplicate d : ServerNameMatcher.duplicates(namesPerRoute)) {
            nameNodesPerRoute.get(d.route()).get(d.index()).error("duplicate: "
                    + nameNodesPerRoute.get(d.firstRoute()).get(d.firstIndex()).path() + " is also \"" + d.name() + "\"");
        }
        return routes;
    }

    /**
     * @param service     the service's name, for messages
     * @param servicePath where the service is ({@code services[1]}): two entries may carry one name
     */
    private ListenConfig listen(ConfigNode node, String service, String servicePath) {
        node.keys("tcp", "udp");
        if (node.isPresent() && !node.isMap()) {
            return new ListenConfig(List.of(), List.of()); // keys() has reported it
        }
        ConfigNode tcpNode = node.get("tcp");
        ConfigNode udpNode = node.get("udp");
        if (!tcpNode.isPresent() && !udpNode.isPresent()) {
            node.error("required: at least one of tcp and udp (e.g. tcp: \"0.0.0.0:8080\")");
        }
        List<ListenRange> tcp = listenRanges(tcpNode, service, servicePath, false);
        List<ListenRange> udp = listenRanges(udpNode, service, servicePath, true);
        int ports = 0;
        for (ListenRange r : tcp) {
            ports += r.size();
        }
        for (ListenRange r : udp) {
            ports += r.size();
        }
        if (ports > ListenRange.MAX_PORTS_PER_SERVICE) {
            node.error(ports + " ports in all, more than the " + ListenRange.MAX_PORTS_PER_SERVICE + " a service may bind");
        }
        return new ListenConfig(tcp, udp);
    }

    /** A listen entry or a list of them; each an address or a port range. */
    private List<ListenRange> listenRanges(ConfigNode node, String service, String servicePath, boolean udp) {
        if (!node.isPresent()) {
            return List.of();
        }
        List<ConfigNode> entries = node.isList() ? node.elements() : List.of(node);
        if (node.isList() && entries.isEmpty()) {
            node.error("must list at least one address (or leave it out)");
        }
        List<ListenRange> out = new ArrayList<>();
        for (ConfigNode entry : entries) {
            Optional<ListenRange> range = entry.listenRange();
            range.ifPresent(r -> {
                out.add(r);
                addresses.add(new AddressAt(entry.path(), new HostPort(r.host(), r.firstPort())));
                serviceBinds.add(new BindAt(entry.path(), service, servicePath, udp, r));
            });
        }
        return out;
    }

    private Optional<HostPort> listenAddress(ConfigNode node) {
        Optional<HostPort> address = node.address(Addresses::parseListener);
        address.ifPresent(a -> addresses.add(new AddressAt(node.path(), a)));
        return address;
    }

    /**
     * {@code backends} (required) or {@code udp_backends}: a non-empty list of distinct backends.
     *
     * @param portless whether a backend may leave its port out (the service listens on several ports)
     */
    private List<BackendConfig> pool(ConfigNode node, boolean udp, boolean portless) {
        if (!node.isPresent()) {
            node.error("required: at least one backend (e.g. - address: \"localhost:3000\")");
            return List.of();
        }
        List<ConfigNode> entries = node.elements();
        if (node.isList() && entries.isEmpty()) {
            node.error("must list at least one backend"
                    + (udp ? " (or leave udp_backends out to use " + siblingPath(node.path(), "backends") + " for UDP)" : ""));
        }
        List<BackendConfig> backends = new ArrayList<>();
        Map<String, String> firstPathOfAddress = new HashMap<>();
        for (ConfigNode entry : entries) {
            Optional<BackendConfig> backend = backend(entry, udp, portless);
            if (backend.isEmpty()) {
                continue;
            }
            String identity = backend.get().address().toString().toLowerCase(Locale.ROOT);
            String first = firstPathOfAddress.putIfAbsent(identity, entry.path());
            if (first != null) {
                entry.get("address").error("duplicate: " + first + " has the same address");
            }
            backends.add(backend.get());
        }
        if (!backends.isEmpty() && backends.stream().allMatch(b -> b.weight() == 0)) {
            node.warn("every backend has weight 0, so none takes new traffic");
        }
        return backends;
    }

    /** The path of a key next to the one at {@code path}: {@code services[2].udp_backends} → {@code services[2].backends}. */
    private static String siblingPath(String path, String key) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? key : path.substring(0, dot + 1) + key;
    }

    private Optional<BackendConfig> backend(ConfigNode node, boolean udp, boolean portless) {
        if (node.isPresent() && !node.isMap()) {
            node.error("expected a map such as {address: \"localhost:3000\"}, got " + node.describe());
            return Optional.empty();
        }
        node.keys("address", "weight", "max_connections", "health_check");
        ConfigNode addressNode = node.get("address");
        if (!addressNode.isPresent()) {
            addressNode.error("required (host:port)");
        }
        Optional<HostPort> address = addressNode.address(Addresses::parseBackendOrHost);
        if (address.isPresent() && address.get().port() == 0 && !portless) {
            addressNode.error("missing port in \"" + addressNode.text().orElse("") + "\" (expected host:port; a backend"
                    + " may leave its port out only in a service that listens on several ports)");
            address = Optional.empty();
        }
        address.ifPresent(a -> addresses.add(new AddressAt(addressNode.path(), a)));
        int weight = node.get("weight").integer(BackendConfig.DEFAULT_WEIGHT, 0, BackendConfig.MAX_WEIGHT);
        int maxConnections = node.get("max_connections").integer(0, 0, MAX_CONNECTIONS);
        Optional<HealthCheckConfig> healthCheck = healthCheck(node.get("health_check"), udp);
        return address.map(a -> new BackendConfig(a, weight, maxConnections, healthCheck));
    }

    private Optional<HealthCheckConfig> healthCheck(ConfigNode node, boolean udp) {
        node.keys("interval", "timeout", "path", "scheme", "healthy_threshold", "unhealthy_threshold");
        if (!node.isMap()) {
            return Optional.empty();
        }
        ConfigNode timeoutNode = node.get("timeout");
        Duration interval = node.get("interval").duration(Duration.ofSeconds(5), MIN_TIMEOUT, MAX_DURATION);
        Duration timeout = timeoutNode.duration(Duration.ofSeconds(2), MIN_TIMEOUT, MAX_DURATION);
        if (timeout.compareTo(interval) > 0) {
            timeoutNode.warn("longer than the interval (" + Durations.format(interval)
                    + "): checks of one backend never overlap, so they run less often than the interval");
        }
        ConfigNode pathNode = node.get("path");
        ConfigNode schemeNode = node.get("scheme");
        Optional<String> path = healthCheckPath(pathNode);
        Scheme scheme = schemeNode.choice(SCHEMES, Scheme.HTTP);
        if (udp) {
            // A UDP check is a datagram and any reply: HTTP settings have nothing to apply to.
            for (ConfigNode httpOnly : List.of(pathNode, schemeNode)) {
                if (httpOnly.isPresent()) {
                    httpOnly.warn("ignored: a UDP health check sends a datagram and waits for any reply");
                }
            }
            path = Optional.empty();
            scheme = Scheme.HTTP;
        }
        return Optional.of(new HealthCheckConfig(interval, timeout, path, scheme,
                node.get("healthy_threshold").integer(2, 1, MAX_HEALTH_THRESHOLD),
                node.get("unhealthy_threshold").integer(3, 1, MAX_HEALTH_THRESHOLD)));
    }

    private static Optional<String> healthCheckPath(ConfigNode node) {
        Optional<String> path = node.text();
        if (path.isEmpty()) {
            return path;
        }
        if (!path.get().startsWith("/")) {
            node.error("must start with \"/\" (leave path out for a TCP connect check)");
            return Optional.empty();
        }
        if (path.get().chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            node.error("must not contain spaces or control characters (percent-encode them)");
            return Optional.empty();
        }
        return path;
    }

    private static LoadBalancingConfig loadBalancing(ConfigNode node) {
        node.keys("algorithm", "session_affinity", "panic_threshold", "slow_start");
        return new LoadBalancingConfig(
                node.get("algorithm").choice(ALGORITHMS, Algorithm.ROUND_ROBIN),
                node.get("session_affinity").bool(false),
                node.get("panic_threshold").integer(0, 0, 100),
                node.get("slow_start").duration(Duration.ZERO, Duration.ZERO, MAX_DURATION));
    }

    private static TrafficConfig traffic(ConfigNode node) {
        node.keys("rate_limit", "timeout", "retries", "max_connections", "udp_max_sessions");
        return new TrafficConfig(
                rateLimit(node.get("rate_limit")),
                timeouts(node.get("timeout")),
                node.get("retries").integer(2, 0, MAX_RETRIES),
                node.get("max_connections").integer(0, 0, MAX_CONNECTIONS),
                node.get("udp_max_sessions").integer(100_000, 1, MAX_UDP_SESSIONS));
    }

    private static RateLimitConfig rateLimit(ConfigNode node) {
        node.keys("requests_per_second", "burst", "per_client", "per_connection");
        Bucket global = bucket(node);
        Bucket perClient = bucket(node.get("per_client").keys("requests_per_second", "burst"));
        ConfigNode perConnection = node.get("per_connection").keys("bytes_per_second", "packets_per_second");
        return new RateLimitConfig(global.rate(), global.burst(),
                new RateLimitConfig.PerClient(perClient.rate(), perClient.burst()),
                new RateLimitConfig.PerConnection(
                        perConnection.get("bytes_per_second").longInteger(0, 0, MAX_BYTES_PER_SECOND),
                        perConnection.get("packets_per_second").longInteger(0, 0, MAX_PACKETS_PER_SECOND)));
    }

    /** {@code requests_per_second} and {@code burst}; burst defaults to the rate (at least 1). */
    private static Bucket bucket(ConfigNode node) {
        double rate = node.get("requests_per_second").number(0, 0, MAX_REQUESTS_PER_SECOND);
        long defaultBurst = rate > 0 ? Math.max(1, (long) Math.ceil(rate)) : 0;
        ConfigNode burstNode = node.get("burst");
        long burst = burstNode.longInteger(defaultBurst, 0, MAX_BURST);
        if (rate > 0 && burst == 0) {
            burstNode.error("must be at least 1 when requests_per_second is set (a bucket of 0 admits nothing)");
        }
        return new Bucket(rate, burst);
    }

    private record Bucket(double rate, long burst) {
    }

    private static TimeoutConfig timeouts(ConfigNode node) {
        node.keys("connect", "idle", "read", "udp_session", "client_hello", "max_lifetime");
        return new TimeoutConfig(
                node.get("connect").duration(Duration.ofSeconds(5), MIN_TIMEOUT, MAX_DURATION),
                node.get("idle").duration(Duration.ofSeconds(60), MIN_TIMEOUT, MAX_DURATION),
                node.get("read").duration(Duration.ofSeconds(30), MIN_TIMEOUT, MAX_DURATION),
                node.get("udp_session").duration(Duration.ofSeconds(30), MIN_TIMEOUT, MAX_DURATION),
                node.get("client_hello").duration(TimeoutConfig.DEFAULT_CLIENT_HELLO, MIN_TIMEOUT, MAX_DURATION),
                node.get("max_lifetime").duration(Duration.ZERO, Duration.ZERO, MAX_DURATION));
    }

    private static CircuitBreakerConfig circuitBreaker(ConfigNode node) {
        node.keys("error_threshold", "timeout");
        return new CircuitBreakerConfig(
                node.get("error_threshold").integer(5, 1, MAX_ERROR_THRESHOLD),
                node.get("timeout").duration(Duration.ofSeconds(30), MIN_TIMEOUT, MAX_DURATION));
    }

    // ---------------------------------------------------------------- admin, logging, shutdown

    private AdminConfig admin(ConfigNode node) {
        node.keys("api_address", "metrics_address", "api_token", "allowed_hosts");
        HostPort api = serverAddress(node.get("api_address"), DEFAULT_API_ADDRESS);
        HostPort metrics = serverAddress(node.get("metrics_address"), DEFAULT_METRICS_ADDRESS);
        ConfigNode tokenNode = node.get("api_token");
        String token = tokenNode.text("");
        checkToken(token, tokenNode.path());
        String envToken = env.get(API_TOKEN_ENV);
        if (envToken != null && !envToken.isEmpty()) {
            checkToken(envToken, "env " + API_TOKEN_ENV);
            token = envToken;
        }
        return new AdminConfig(api, metrics, token, allowedHosts(node.get("allowed_hosts")));
    }

    /** A host name or IP literal, as a {@code Host} header carries it without its port. */
    private static final Pattern ALLOWED_HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** {@code admin.allowed_hosts}: a list of host names, no ports, no schemes. */
    private static List<String> allowedHosts(ConfigNode node) {
        List<String> hosts = new ArrayList<>();
        for (ConfigNode element : node.elements()) {
            element.text().ifPresent(host -> {
                if (ALLOWED_HOST.matcher(host).matches()) {
                    hosts.add(host);
                } else {
                    element.error("expected a host name without port or scheme, such as aegis.internal, got \""
                            + host + "\"");
                }
            });
        }
        return hosts;
    }

    /** The admin API or metrics address: a listen address, and one of the TCP servers we bind. */
    private HostPort serverAddress(ConfigNode node, HostPort defaultAddress) {
        HostPort address = listenAddress(node).orElse(defaultAddress);
        tcpBinds.add(new AddressAt(node.path(), address));
        return address;
    }

    /** The token travels in an {@code Authorization} header: it must be one header-safe word. */
    private void checkToken(String token, String path) {
        if (token.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
            findings.error(path, "must not contain spaces, control or non-ASCII characters");
        }
    }

    private static LoggingConfig logging(ConfigNode node) {
        node.keys("level", "access_log");
        return new LoggingConfig(node.get("level").choice(LEVELS, "info"), node.get("access_log").bool(true));
    }

    private static ShutdownConfig shutdown(ConfigNode node) {
        node.keys("drain_timeout");
        return new ShutdownConfig(node.get("drain_timeout").duration(Duration.ofSeconds(30), Duration.ZERO, MAX_DURATION));
    }

    // ---------------------------------------------------------------- checks across sections

    /**
     * The admin API and the metrics endpoint cannot share a port with each other or with a TCP
     * listener of any service on overlapping hosts (see {@link #hostsOverlap}); the bind would fail at start.
     */
    private void checkPortConflicts() {
        for (int i = 0; i < tcpBinds.size(); i++) {
            AddressAt server = tcpBinds.get(i);
            HostPort a = server.address();
            if (a.port() == 0) {
                continue;
            }
            for (BindAt listener : serviceBinds) {
                ListenRange r = listener.range();
                if (!listener.udp() && r.firstPort() <= a.port() && a.port() <= r.lastPort() && hostsOverlap(a.host(), r.host())) {
                    findings.error(server.path(), a + " conflicts with " + listener.path() + " " + r
                            + listener.ofService() + overlapHint(a.host(), r.host()));
                }
            }
            for (int j = 0; j < i; j++) {
                HostPort earlier = tcpBinds.get(j).address();
                if (a.port() == earlier.port() && hostsOverlap(a.host(), earlier.host())) {
                    findings.error(server.path(), a + " conflicts with " + tcpBinds.get(j).path() + " " + earlier
                            + overlapHint(a.host(), earlier.host()));
                }
            }
        }
    }

    /**
     * No two listen entries, of one service or of two, may bind the same port of overlapping hosts
     * with the same protocol (TCP and UDP on one port is fine); the error names both entries, and
     * both services when they differ. Port 0 (any free port) never conflicts.
     */
    private void checkServiceBinds() {
        for (int i = 0; i < serviceBinds.size(); i++) {
            BindAt later = serviceBinds.get(i);
            for (int j = 0; j < i; j++) {
                BindAt earlier = serviceBinds.get(j);
                if (later.udp() != earlier.udp()) {
                    continue;
                }
                ListenRange a = later.range();
                ListenRange b = earlier.range();
                boolean portsOverlap = a.firstPort() != 0 && b.firstPort() != 0
                        && a.firstPort() <= b.lastPort() && b.firstPort() <= a.lastPort();
                boolean sameService = later.servicePath().equals(earlier.servicePath());
                if (sameService && (ListenConfig.isIpv6Wildcard(a.host()) && ListenConfig.isIpv4Literal(b.host())
                        || ListenConfig.isIpv6Wildcard(b.host()) && ListenConfig.isIpv4Literal(a.host()))) {
                    continue; // [::] is dual-stack: it serves the IPv4 entry's clients (see ListenConfig)
                }
                if (portsOverlap && hostsOverlap(a.host(), b.host())) {
                    findings.error(later.path(), (later.udp() ? "udp " : "tcp ") + a
                            + (sameService ? "" : " of service " + later.service())
                            + " conflicts with " + earlier.path() + " " + b
                            + (sameService ? "" : " of service " + earlier.service())
                            + overlapHint(a.host(), b.host()));
                }
            }
        }
    }

    private record BindAt(String path, String service, String servicePath, boolean udp, ListenRange range) {

        /** Names the service, unless the path does: the one service of a {@code proxy:} file. */
        String ofService() {
            return path.startsWith("proxy.") ? "" : " of service " + service;
        }
    }

    /**
     * Whether binding one host would take the same port from the other. The JDK opens every socket
     * dual-stack, so a wildcard, IPv4 ({@code 0.0.0.0}) or IPv6 ({@code [::]}), takes the port on
     * every address of both families; IP literals are compared by value ({@code [::0]} is
     * {@code [::]}, {@code [::ffff:127.0.0.1]} is {@code 127.0.0.1}), host names by text.
     */
    private static boolean hostsOverlap(String a, String b) {
        String ca = canonicalHost(a);
        String cb = canonicalHost(b);
        return ca.equals(cb) || isWildcard(ca) || isWildcard(cb);
    }

    /** Why two different spellings overlap; empty when they are the same host. */
    private static String overlapHint(String a, String b) {
        String ca = canonicalHost(a);
        String cb = canonicalHost(b);
        if (ca.equals(cb) && a.equalsIgnoreCase(b)) {
            return "";
        }
        if (ca.equals(cb)) {
            return " (the same address)";
        }
        // Of two wildcards, the IPv6 one is the surprise: it takes the IPv4 port too.
        String wildcard = isWildcard(ca) && (!isWildcard(cb) || ca.equals("::")) ? a : b;
        return " (" + (wildcard.indexOf(':') >= 0 ? "[" + wildcard + "]" : wildcard)
                + " takes the port on every address, IPv4 and IPv6)";
    }

    private static boolean isWildcard(String canonicalHost) {
        return canonicalHost.equals("0.0.0.0") || canonicalHost.equals("::");
    }

    /** An IP literal in its one short form (no DNS: only literals are parsed), a host name in lower case. */
    private static String canonicalHost(String host) {
        boolean literal = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
        if (literal) {
            try {
                return HostPort.literal(InetAddress.getByName(host));
            } catch (UnknownHostException e) {
                // an IPv6 scope naming no interface of this machine: compare the text
            }
        }
        return host.toLowerCase(Locale.ROOT);
    }

    /** Every host name in the file, each looked up once through the {@link HostResolver}. */
    private void resolveHosts() {
        Map<String, Boolean> resolved = new HashMap<>();
        for (AddressAt at : addresses) {
            String host = at.address().host();
            if (!resolved.computeIfAbsent(host.toLowerCase(Locale.ROOT), h -> resolver.resolves(host))) {
                findings.error(at.path(), "cannot resolve host \"" + host + "\"");
            }
        }
    }

    private record AddressAt(String path, HostPort address) {
    }

    // ---------------------------------------------------------------- names

    private static Map<String, Algorithm> algorithms() {
        Map<String, Algorithm> names = new LinkedHashMap<>();
        for (Algorithm algorithm : Algorithm.values()) {
            names.put(algorithm.yamlName(), algorithm);
        }
        names.put("weighted_round_robin", Algorithm.WEIGHTED); // the original Aegis's name
        return names;
    }

    private static Map<String, BackendRemoval> removals() {
        Map<String, BackendRemoval> names = new LinkedHashMap<>();
        for (BackendRemoval removal : BackendRemoval.values()) {
            names.put(removal.yamlName(), removal);
        }
        return names;
    }

    private static Map<String, Send> sends() {
        Map<String, Send> names = new LinkedHashMap<>();
        for (Send send : Send.values()) {
            names.put(send.yamlName(), send);
        }
        return names;
    }

    private static Map<String, String> levels() {
        Map<String, String> names = new LinkedHashMap<>();
        for (String level : List.of("error", "warn", "info", "debug", "trace")) {
            names.put(level, level);
        }
        return names;
    }

    private static Map<String, Scheme> schemes() {
        Map<String, Scheme> names = new LinkedHashMap<>();
        names.put("http", Scheme.HTTP);
        names.put("https", Scheme.HTTPS);
        return names;
    }
}
