package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of mistake is reported with its YAML path and what is wrong. */
class ConfigErrorsTest {

    /** Resolves every host but "nginx", so that no test depends on the machine's DNS. */
    static final HostResolver NO_NGINX = host -> !host.equals("nginx");

    private static final String LISTEN = """
            proxy:
              listen:
                tcp: "127.0.0.1:8080"
            """;
    private static final String BACKENDS = """
              backends:
                - address: "127.0.0.1:3000"
            """;

    /** A {@code services:} file with one entry {@code s} listening on TCP 127.0.0.1:8080 and {@code extra} (indented as its keys). */
    private static String serviceWith(String extra) {
        return """
                services:
                  - name: s
                    listen: {tcp: "127.0.0.1:8080"}
                    backends: [{address: "127.0.0.1:3000"}]
                """ + extra;
    }

    /** A {@code services:} file with one entry {@code s} and the given listen block (flow map) and backend address. */
    private static String serviceListening(String listen, String backend) {
        return "services:\n  - name: s\n    listen: " + listen + "\n    backends: [{address: \"" + backend + "\"}]\n";
    }

    /** Two services a and b, each with its listen block (flow maps). */
    private static String twoServices(String listenA, String listenB) {
        return "services:\n"
                + "  - name: a\n    listen: " + listenA + "\n    backends: [{address: \"127.0.0.1:3000\"}]\n"
                + "  - name: b\n    listen: " + listenB + "\n    backends: [{address: \"127.0.0.1:3001\"}]\n";
    }

    static List<String> errorsOf(String yaml) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml, Map.of(), NO_NGINX));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    /** A valid config with {@code extra} (indented under {@code proxy:}) appended. */
    private static String proxyWith(String extra) {
        return LISTEN + BACKENDS + extra;
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of(proxyWith("  trafic: {}\n"),
                        "proxy.trafic: unknown key (did you mean \"traffic\"?)"),
                Arguments.of(proxyWith("  traffic:\n    maxConnections: 5\n"),
                        "proxy.traffic.maxConnections: unknown key (did you mean \"max_connections\"?)"),
                Arguments.of(proxyWith("  zzz: 1\n"),
                        "proxy.zzz: unknown key (expected one of: listen, backends, udp_backends, load_balancing, "
                                + "traffic, circuit_breaker, udp, proxy_protocol, tls_routes, queue, backend_removal, "
                                + "discovery)"),
                Arguments.of(proxyWith("bogus: 1\n"),
                        "bogus: unknown key (expected one of: proxy, services, admin, logging, shutdown, grpc)"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      weight: \"abc\"\n",
                        "proxy.backends[0].weight: expected a whole number, got \"abc\""),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      weight: 20000\n",
                        "proxy.backends[0].weight: must be at most 10000, got 20000"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      weight: -1\n",
                        "proxy.backends[0].weight: must not be negative, got -1"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      weight: 1.0\n",
                        "proxy.backends[0].weight: expected a whole number, got 1.0"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      max_connections: 1.5\n",
                        "proxy.backends[0].max_connections: expected a whole number, got 1.5"),
                Arguments.of(proxyWith("  load_balancing: [round_robin]\n"),
                        "proxy.load_balancing: expected a map, got a list"),
                Arguments.of(proxyWith("  traffic:\n    retries: -1\n"),
                        "proxy.traffic.retries: must not be negative, got -1"),
                Arguments.of(proxyWith("  traffic:\n    retries: 101\n"),
                        "proxy.traffic.retries: must be at most 100, got 101"),
                Arguments.of(proxyWith("  traffic:\n    retries: 99999999999999999999\n"),
                        "proxy.traffic.retries: must be at most 100, got 99999999999999999999"),
                Arguments.of(proxyWith("  traffic:\n    udp_max_sessions: 0\n"),
                        "proxy.traffic.udp_max_sessions: must be at least 1, got 0"),
                Arguments.of(proxyWith("  traffic:\n    udp_max_sessions: 20000000\n"),
                        "proxy.traffic.udp_max_sessions: must be at most 10000000, got 20000000"),
                Arguments.of(proxyWith("  traffic:\n    timeout:\n      connect: 5\n"),
                        "proxy.traffic.timeout.connect: expected a duration such as 5s, got 5 (add a unit: ms, s, m or h)"),
                Arguments.of(proxyWith("  traffic:\n    timeout:\n      idle: 5x\n"),
                        "proxy.traffic.timeout.idle: unknown unit \"x\" in duration \"5x\" (use ns, us, ms, s, m or h)"),
                Arguments.of(proxyWith("  traffic:\n    timeout:\n      read: -5s\n"),
                        "proxy.traffic.timeout.read: negative duration \"-5s\" is not allowed"),
                Arguments.of(proxyWith("  traffic:\n    timeout:\n      udp_session: 48h\n"),
                        "proxy.traffic.timeout.udp_session: must be at most 24h, got 48h"),
                Arguments.of(proxyWith("  traffic:\n    timeout:\n      connect: 0s\n"),
                        "proxy.traffic.timeout.connect: must be at least 1ms, got 0s"),
                Arguments.of(proxyWith("  traffic:\n    rate_limit:\n      requests_per_second: 10\n      burst: 0\n"),
                        "proxy.traffic.rate_limit.burst: must be at least 1 when requests_per_second is set "
                                + "(a bucket of 0 admits nothing)"),
                Arguments.of(proxyWith("  traffic:\n    rate_limit:\n      requests_per_second: -1\n"),
                        "proxy.traffic.rate_limit.requests_per_second: must not be negative, got -1"),
                Arguments.of(proxyWith("  traffic:\n    rate_limit:\n      per_client: {requests_per_second: fast}\n"),
                        "proxy.traffic.rate_limit.per_client.requests_per_second: expected a number, got \"fast\""),
                Arguments.of(proxyWith("  traffic:\n    rate_limit:\n      per_connection: {bytes_per_second: -5}\n"),
                        "proxy.traffic.rate_limit.per_connection.bytes_per_second: must not be negative, got -5"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n    - address: \"localhost:70000\"\n",
                        "proxy.backends[1].address: port 70000 out of range (1-65535)"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"::1:3000\"\n",
                        "proxy.backends[0].address: IPv6 address in \"::1:3000\" must be in brackets, e.g. [::1]:80"),
                Arguments.of(LISTEN + "  backends:\n    - address: 3000\n",
                        "proxy.backends[0].address: expected an address \"host:port\", got 3000"),
                Arguments.of(LISTEN + "  backends:\n    - weight: 5\n",
                        "proxy.backends[0].address: required (host:port)"),
                Arguments.of(LISTEN + "  backends:\n    - \"localhost:3000\"\n",
                        "proxy.backends[0]: expected a map such as {address: \"localhost:3000\"}, got \"localhost:3000\""),
                Arguments.of(LISTEN + "  backends: []\n",
                        "proxy.backends: must list at least one backend"),
                Arguments.of(LISTEN + "  backends: {address: \"127.0.0.1:3000\"}\n",
                        "proxy.backends: expected a list, got a map"),
                Arguments.of(LISTEN,
                        "proxy.backends: required: at least one backend (e.g. - address: \"localhost:3000\")"),
                Arguments.of(proxyWith("  udp_backends: []\n"),
                        "proxy.udp_backends: must list at least one backend "
                                + "(or leave udp_backends out to use proxy.backends for UDP)"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n    - address: \"10.0.0.1:1\"\n"
                                + "    - address: \"127.0.0.1:3000\"\n",
                        "proxy.backends[2].address: duplicate: proxy.backends[0] has the same address"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"nginx:80\"\n",
                        "proxy.backends[0].address: cannot resolve host \"nginx\""),
                Arguments.of(proxyWith("  load_balancing:\n    algorithm: random\n"),
                        "proxy.load_balancing.algorithm: must be one of round_robin, weighted, least_connections, "
                                + "consistent_hash, weighted_round_robin, got \"random\""),
                Arguments.of(proxyWith("  load_balancing:\n    session_affinity: maybe\n"),
                        "proxy.load_balancing.session_affinity: expected true or false, got \"maybe\""),
                Arguments.of(proxyWith("  load_balancing:\n    panic_threshold: 101\n"),
                        "proxy.load_balancing.panic_threshold: must be at most 100, got 101"),
                Arguments.of(proxyWith("  load_balancing:\n    panic_threshold: -1\n"),
                        "proxy.load_balancing.panic_threshold: must not be negative, got -1"),
                Arguments.of(proxyWith("  load_balancing:\n    panic_threshold: 12.5\n"),
                        "proxy.load_balancing.panic_threshold: expected a whole number, got 12.5"),
                Arguments.of(proxyWith("  load_balancing:\n    slow_start: 30\n"),
                        "proxy.load_balancing.slow_start: expected a duration such as 5s, got 30 (add a unit: ms, s, m or h)"),
                Arguments.of(proxyWith("  load_balancing:\n    slow_start: 25h\n"),
                        "proxy.load_balancing.slow_start: must be at most 24h, got 25h"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: {scheme: ftp}\n",
                        "proxy.backends[0].health_check.scheme: must be one of http, https, got \"ftp\""),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: {path: health}\n",
                        "proxy.backends[0].health_check.path: must start with \"/\" (leave path out for a TCP connect check)"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: {path: \"/a b\"}\n",
                        "proxy.backends[0].health_check.path: must not contain spaces or control characters "
                                + "(percent-encode them)"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: {healthy_threshold: 0}\n",
                        "proxy.backends[0].health_check.healthy_threshold: must be at least 1, got 0"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: {unhealthy_threshold: 0}\n",
                        "proxy.backends[0].health_check.unhealthy_threshold: must be at least 1, got 0"),
                Arguments.of(LISTEN + "  backends:\n    - address: \"127.0.0.1:3000\"\n      health_check: true\n",
                        "proxy.backends[0].health_check: expected a map, got true"),
                Arguments.of(proxyWith("  circuit_breaker: {error_threshold: 0}\n"),
                        "proxy.circuit_breaker.error_threshold: must be at least 1, got 0"),
                Arguments.of(proxyWith("  circuit_breaker: {timeout: 1y}\n"),
                        "proxy.circuit_breaker.timeout: unknown unit \"y\" in duration \"1y\" (use ns, us, ms, s, m or h)"),
                Arguments.of("proxy:\n  listen: {}\n" + BACKENDS,
                        "proxy.listen: required: at least one of tcp and udp (e.g. tcp: \"0.0.0.0:8080\")"),
                Arguments.of("proxy:\n" + BACKENDS,
                        "proxy.listen: required: at least one of tcp and udp (e.g. tcp: \"0.0.0.0:8080\")"),
                Arguments.of("proxy:\n  listen: {udp: \"127.0.0.1:65536\"}\n" + BACKENDS,
                        "proxy.listen.udp: port 65536 out of range (0-65535)"),
                Arguments.of("proxy:\n  listen: {tcp: \"127.0.0.1:8080\", tcp: \"127.0.0.1:8081\"}\n" + BACKENDS,
                        "proxy.listen.tcp: duplicate key (a key may appear only once in a map)"),
                Arguments.of(proxyWith("admin:\n  api_address: \"0.0.0.0:8080\"\n"),
                        "admin.api_address: 0.0.0.0:8080 conflicts with proxy.listen.tcp 127.0.0.1:8080 "
                                + "(0.0.0.0 takes the port on every address, IPv4 and IPv6)"),
                Arguments.of(proxyWith("admin:\n  metrics_address: \"127.0.0.1:9090\"\n"),
                        "admin.metrics_address: 127.0.0.1:9090 conflicts with admin.api_address 127.0.0.1:9090"),
                Arguments.of(proxyWith("admin:\n  api_token: 12345\n"),
                        "admin.api_token: expected a string, got 12345 (put it in quotes)"),
                Arguments.of(proxyWith("admin:\n  api_token: \"two words\"\n"),
                        "admin.api_token: must not contain spaces, control or non-ASCII characters"),
                Arguments.of(proxyWith("logging:\n  level: verbose\n"),
                        "logging.level: must be one of error, warn, info, debug, trace, got \"verbose\""),
                Arguments.of(proxyWith("logging:\n  access_log: sometimes\n"),
                        "logging.access_log: expected true or false, got \"sometimes\""),
                Arguments.of(proxyWith("shutdown:\n  drain_timeout: forever\n"),
                        "shutdown.drain_timeout: invalid duration \"forever\" (e.g. 500ms, 5s, 2m, 1h or 1m30s)"),
                Arguments.of(proxyWith("shutdown: 30s\n"),
                        "shutdown: expected a map, got \"30s\""),
                Arguments.of("proxy:\n  listen: \"127.0.0.1:8080\"\n" + BACKENDS,
                        "proxy.listen: expected a map, got \"127.0.0.1:8080\""),

                // ---- services (SPEC §9)
                Arguments.of(proxyWith(serviceWith("")),
                        "services: a file has proxy: (one service) or services: (several), not both"),
                Arguments.of("admin: {api_address: \"127.0.0.1:0\"}\n",
                        "proxy: required (one service), or services: (a list of named services) instead"),
                Arguments.of("proxy:\nservices:\n",
                        "proxy: required (one service), or services: (a list of named services) instead"),
                Arguments.of("services: []\n",
                        "services: must list at least one service"),
                Arguments.of("services: {name: s}\n",
                        "services: expected a list, got a map"),
                Arguments.of("services: [\"s\"]\n",
                        "services[0]: expected a service (a map with name, listen and backends), got \"s\""),
                Arguments.of(serviceWith("").replace("name: s", "name: Postgres"),
                        "services[0].name: must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), "
                                + "got \"Postgres\""),
                Arguments.of(serviceWith("").replace("name: s", "name: " + "a".repeat(33)),
                        "services[0].name: must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), "
                                + "got \"" + "a".repeat(33) + "\""),
                Arguments.of(serviceWith("").replace("name: s", "name: \"\""),
                        "services[0].name: must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), "
                                + "got \"\""),
                Arguments.of(serviceWith("").replace("name: s", "name: -s"),
                        "services[0].name: must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), "
                                + "got \"-s\""),
                Arguments.of(serviceWith("").replace("name: s", "name: 5432"),
                        "services[0].name: expected a string, got 5432 (put it in quotes)"),
                Arguments.of(serviceWith("").replace("  - name: s\n", "  - listen: {udp: \"127.0.0.1:8080\"}\n")
                                .replace("    listen: {tcp: \"127.0.0.1:8080\"}\n", ""),
                        "services[0].name: required: the service's name, e.g. postgres"),
                Arguments.of(twoServices("{tcp: \"127.0.0.1:8080\"}", "{tcp: \"127.0.0.1:8081\"}").replace("name: b", "name: a"),
                        "services[1].name: duplicate: services[0].name is also \"a\""),
                Arguments.of(serviceWith("    udp_backends: []\n"),
                        "services[0].udp_backends: must list at least one backend "
                                + "(or leave udp_backends out to use services[0].backends for UDP)"),
                Arguments.of(serviceWith("    backend: []\n"),
                        "services[0].backend: unknown key (did you mean \"backends\"?)"),
                Arguments.of(serviceWith("    udp_backend: []\n"),
                        "services[0].udp_backend: unknown key (did you mean \"udp_backends\"?)"),
                Arguments.of(serviceWith("    zzz: 1\n"),
                        "services[0].zzz: unknown key (expected one of: name, listen, backends, udp_backends, "
                                + "load_balancing, traffic, circuit_breaker, udp, proxy_protocol, tls_routes, queue, "
                                + "backend_removal, discovery)"),
                Arguments.of(serviceWith("    queue: {size: -1}\n"),
                        "services[0].queue.size: must not be negative, got -1"),
                Arguments.of(serviceWith("    queue: {size: 10, timeout: 0s}\n"),
                        "services[0].queue.timeout: must be at least 1ms, got 0s"),
                Arguments.of(serviceWith("    queue: {length: 10}\n"),
                        "services[0].queue.length: unknown key (expected one of: size, timeout)"),
                Arguments.of(serviceWith("    backend_removal: kill\n"),
                        "services[0].backend_removal: must be one of drain, close, got \"kill\""),
                Arguments.of(serviceWith("    traffic: {timeout: {max_lifetime: forever}}\n"),
                        "services[0].traffic.timeout.max_lifetime: invalid duration \"forever\" (e.g. 500ms, 5s, 2m, 1h or 1m30s)"),
                Arguments.of(serviceWith("    traffic: {timeout: {max_lifetime: -5s}}\n"),
                        "services[0].traffic.timeout.max_lifetime: negative duration \"-5s\" is not allowed"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80, refresh: 10}}\n"),
                        "services[0].discovery.dns.refresh: expected a duration such as 5s, got 10 (add a unit: ms, s, m or h)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80, refresh: 10ms}}\n"),
                        "services[0].discovery.dns.refresh: must be at least 100ms, got 10ms"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [], port: 80}}\n"),
                        "services[0].discovery.dns.names: must list at least one DNS name (A/AAAA, or SRV when it starts with _)"),
                Arguments.of(serviceWith("    discovery: {dns: {port: 80}}\n"),
                        "services[0].discovery.dns.names: required: at least one DNS name (A/AAAA, or SRV when it starts with _)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app..test\"], port: 80}}\n"),
                        "services[0].discovery.dns.names[0]: not a DNS name: \"app..test\" (labels of letters, digits, - and _, separated by dots)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"a.test\", \"A.test\"], port: 80}}\n"),
                        "services[0].discovery.dns.names[1]: duplicate: services[0].discovery.dns.names[0] is also \"A.test\""),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 70000}}\n"),
                        "services[0].discovery.dns.port: must be at most 65535, got 70000"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 0}}\n"),
                        "services[0].discovery.dns.port: must be at least 1, got 0"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"]}}\n"),
                        "services[0].discovery.dns.port: required: the port of the backends of A/AAAA names (an SRV name, starting with _, gives its own)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, resolvers: [\"127.0.0.1:99999\"]}\n"),
                        "services[0].discovery.resolvers[0]: port 99999 out of range (1-65535)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, resolvers: [\"bad host:53\"]}\n"),
                        "services[0].discovery.resolvers[0]: invalid host \"bad host\""),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, resolvers: []}\n"),
                        "services[0].discovery.resolvers: must list at least one DNS server (or leave resolvers out to use the system's resolver)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, weight: 10001}\n"),
                        "services[0].discovery.weight: must be at most 10000, got 10001"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, health_check: {interval: 0s}}\n"),
                        "services[0].discovery.health_check.interval: must be at least 1ms, got 0s"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80, ttl: 5s}}\n"),
                        "services[0].discovery.dns.ttl: unknown key (expected one of: names, refresh, port)"),
                Arguments.of(serviceWith("    discovery: {dns: {names: [\"app.test\"], port: 80}, names: [\"b.test\"]}\n"),
                        "services[0].discovery.names: unknown key (expected one of: dns, resolvers, health_check, weight)"),
                Arguments.of(serviceWith("    proxy_protocol: {send: v3}\n"),
                        "services[0].proxy_protocol.send: must be one of none, v1, v2, got \"v3\""),
                Arguments.of(serviceWith("    proxy_protocol: {accept_from: [\"10.0.0.0/8\", \"10.0.0.300/8\"]}\n"),
                        "services[0].proxy_protocol.accept_from[1]: \"10.0.0.300/8\" is not an IPv4 or IPv6 address"),
                Arguments.of(serviceWith("    proxy_protocol: {accept_from: [\"10.0.0.0/33\"]}\n"),
                        "services[0].proxy_protocol.accept_from[0]: \"10.0.0.0/33\": the prefix length must be a "
                                + "number from 0 to 32"),
                Arguments.of(serviceWith("    proxy_protocol: {accept_from: [\"::1/129\"]}\n"),
                        "services[0].proxy_protocol.accept_from[0]: \"::1/129\": the prefix length must be a "
                                + "number from 0 to 128"),
                Arguments.of(serviceWith("    proxy_protocol: {accept_from: [\"haproxy.internal\"]}\n"),
                        "services[0].proxy_protocol.accept_from[0]: \"haproxy.internal\" is not an IPv4 or IPv6 "
                                + "address (a CIDR like 10.0.0.0/8 or ::1/128)"),
                Arguments.of(serviceWith("    proxy_protocol: {accept_from: \"10.0.0.0/8\"}\n"),
                        "services[0].proxy_protocol.accept_from: expected a list, got \"10.0.0.0/8\""),
                Arguments.of(serviceWith("    proxy_protocol: {sent: v2}\n"),
                        "services[0].proxy_protocol.sent: unknown key (did you mean \"send\"?)"),
                Arguments.of("""
                        services:
                          - name: dns
                            listen: {tcp: "127.0.0.1:8053", udp: "127.0.0.1:8053"}
                            backends: [{address: "127.0.0.1:53"}]
                            proxy_protocol: {send: v1}
                        """, "services[0].proxy_protocol.send: v1 has no datagram form: use v2 "
                                + "(this service has a UDP listener)"),
                Arguments.of(serviceWith("    udp: {session_timout: 10m}\n"),
                        "services[0].udp.session_timout: unknown key (did you mean \"session_timeout\"?)"),
                Arguments.of(serviceWith("    udp: {responses: -1}\n"),
                        "services[0].udp.responses: must not be negative, got -1"),
                Arguments.of(serviceWith("    udp: {responses: 1.5}\n"),
                        "services[0].udp.responses: expected a whole number, got 1.5"),
                Arguments.of(serviceWith("    udp: {per_packet: yes please}\n"),
                        "services[0].udp.per_packet: expected true or false, got \"yes please\""),
                Arguments.of(serviceWith("    udp: {session_timeout: 10}\n"),
                        "services[0].udp.session_timeout: expected a duration such as 5s, got 10 (add a unit: ms, s, m or h)"),
                Arguments.of(serviceWith("    udp: {session_timeout: 10m}\n    traffic: {timeout: {udp_session: 5m}}\n"),
                        "services[0].udp.session_timeout: give udp.session_timeout or traffic.timeout.udp_session, "
                                + "not both (they are one setting)"),
                Arguments.of(proxyWith("  udp: {session_timeout: 10m}\n  traffic: {timeout: {udp_session: 5m}}\n"),
                        "proxy.udp.session_timeout: give udp.session_timeout or traffic.timeout.udp_session, "
                                + "not both (they are one setting)"),

                // ---- listen entries and port ranges
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40010-40000\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: range \"127.0.0.1:40010-40000\" ends before it starts"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:0-20\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: port 0 (any free port) cannot be part of a range in \"127.0.0.1:0-20\""),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40000-65536\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: port 65536 out of range (0-65535)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40000-41024\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: range \"127.0.0.1:40000-41024\" has 1025 ports, more than 1024"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40000-\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: invalid port range \"40000-\" in \"127.0.0.1:40000-\" "
                                + "(expected host:first-last, e.g. 0.0.0.0:49152-49172)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:-5\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: invalid port range \"-5\" in \"127.0.0.1:-5\" "
                                + "(expected host:first-last, e.g. 0.0.0.0:49152-49172)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:1-2-3\"}", "127.0.0.1:1"),
                        "services[0].listen.udp: invalid port range \"1-2-3\" in \"127.0.0.1:1-2-3\" "
                                + "(expected host:first-last, e.g. 0.0.0.0:49152-49172)"),
                Arguments.of(serviceListening("{tcp: []}", "127.0.0.1:1"),
                        "services[0].listen.tcp: must list at least one address (or leave it out)"),
                Arguments.of(serviceListening("{tcp: [\"127.0.0.1:1\", 8080]}", "127.0.0.1:1"),
                        "services[0].listen.tcp[1]: expected an address \"host:port\" or a port range "
                                + "\"host:first-last\", got 8080"),
                Arguments.of(serviceListening("{tcp: \"127.0.0.1:40000-41023\", udp: \"127.0.0.1:50000\"}", "127.0.0.1:1"),
                        "services[0].listen: 1025 ports in all, more than the 1024 a service may bind"),
                Arguments.of(serviceListening("{udp: [\"127.0.0.1:40000-40999\", \"[::1]:40000-40024\"]}", "127.0.0.1"),
                        "services[0].listen: 1025 ports in all, more than the 1024 a service may bind"),

                // ---- port-less backends
                Arguments.of(serviceListening("{udp: \"127.0.0.1:10053\"}", "127.0.0.1"),
                        "services[0].backends[0].address: missing port in \"127.0.0.1\" (expected host:port; a backend "
                                + "may leave its port out only in a service that listens on several ports)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:10053\", tcp: \"127.0.0.1:10053\"}", "[::1]"),
                        "services[0].backends[0].address: missing port in \"[::1]\" (expected host:port; a backend "
                                + "may leave its port out only in a service that listens on several ports)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40000-40020\"}", "127.0.0.1:0"),
                        "services[0].backends[0].address: port 0 out of range (1-65535)"),
                Arguments.of(serviceListening("{udp: \"127.0.0.1:40000-40020\"}", "::1"),
                        "services[0].backends[0].address: IPv6 address in \"::1\" must be in brackets, e.g. [::1]:80"),

                // ---- one address and protocol, one service
                Arguments.of(twoServices("{udp: \"127.0.0.1:10053\"}", "{udp: \"127.0.0.1:10053\"}"),
                        "services[1].listen.udp: udp 127.0.0.1:10053 of service b conflicts with "
                                + "services[0].listen.udp 127.0.0.1:10053 of service a"),
                Arguments.of(twoServices("{udp: \"127.0.0.1:53\"}", "{udp: \"0.0.0.0:53\"}"),
                        "services[1].listen.udp: udp 0.0.0.0:53 of service b conflicts with services[0].listen.udp "
                                + "127.0.0.1:53 of service a (0.0.0.0 takes the port on every address, IPv4 and IPv6)"),
                Arguments.of(twoServices("{tcp: \"0.0.0.0:53\"}", "{tcp: \"127.0.0.1:53\"}"),
                        "services[1].listen.tcp: tcp 127.0.0.1:53 of service b conflicts with services[0].listen.tcp "
                                + "0.0.0.0:53 of service a (0.0.0.0 takes the port on every address, IPv4 and IPv6)"),
                Arguments.of(twoServices("{udp: \"127.0.0.1:40000-40020\"}", "{udp: \"127.0.0.1:40020-40030\"}"),
                        "services[1].listen.udp: udp 127.0.0.1:40020-40030 of service b conflicts with "
                                + "services[0].listen.udp 127.0.0.1:40000-40020 of service a"),
                Arguments.of(twoServices("{tcp: [\"127.0.0.1:1\", \"[::1]:40005\"]}", "{tcp: \"[0:0::1]:40000-40020\"}"),
                        "services[1].listen.tcp: tcp [0:0::1]:40000-40020 of service b conflicts with "
                                + "services[0].listen.tcp[1] [::1]:40005 of service a (the same address)"),
                Arguments.of(twoServices("{udp: \"[::ffff:127.0.0.1]:53\"}", "{udp: \"127.0.0.1:53\"}"),
                        "services[1].listen.udp: udp 127.0.0.1:53 of service b conflicts with "
                                + "services[0].listen.udp [::ffff:127.0.0.1]:53 of service a (the same address)"),
                Arguments.of(serviceListening("{tcp: \"127.0.0.1:9000-9090\"}", "127.0.0.1:1"),
                        "admin.api_address: 127.0.0.1:9090 conflicts with services[0].listen.tcp 127.0.0.1:9000-9090 "
                                + "of service s"),
                Arguments.of(proxyWith("admin:\n  api_address: \"[::]:8080\"\n"),
                        "admin.api_address: [::]:8080 conflicts with proxy.listen.tcp 127.0.0.1:8080 "
                                + "([::] takes the port on every address, IPv4 and IPv6)"));
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void reportsEachMistakeWithItsPathAndWhatIsWrong(String yaml, String expected) {
        List<String> errors = errorsOf(yaml);
        assertEquals(List.of(expected), errors, yaml);
    }

    @Test
    void reportsEveryMistakeOfAFileAtOnce() {
        String yaml = """
                proxy:
                  listen:
                    tcp: "127.0.0.1:8080"
                  trafic: {}
                  backends:
                    - address: "localhost:3000"
                    - address: "localhost:70000"
                  load_balancing:
                    algorithm: fastest
                """;
        assertEquals(List.of(
                "proxy.trafic: unknown key (did you mean \"traffic\"?)",
                "proxy.backends[1].address: port 70000 out of range (1-65535)",
                "proxy.load_balancing.algorithm: must be one of round_robin, weighted, least_connections, "
                        + "consistent_hash, weighted_round_robin, got \"fastest\""),
                errorsOf(yaml));
    }

    @Test
    void exceptionMessageListsOneErrorPerLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                "proxy:\n  listen: {}\n  backends: []\n", Map.of(), NO_NGINX));
        assertEquals("""
                proxy.listen: required: at least one of tcp and udp (e.g. tcp: "0.0.0.0:8080")
                proxy.backends: must list at least one backend""", e.getMessage());
        assertEquals(2, e.errors().size());
    }

    @Test
    void errorReadsAsPathColonMessage() {
        assertEquals("proxy.backends[1].address: port 70000 out of range",
                new ConfigError("proxy.backends[1].address", "port 70000 out of range").toString());
    }

    @Test
    void exceptionNeedsAtLeastOneError() {
        assertThrows(IllegalArgumentException.class, () -> new ConfigException(List.of()));
    }

    @Test
    void anInvalidEnvironmentTokenIsNamedByTheVariable() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                LISTEN + BACKENDS, Map.of("AEGIS_API_TOKEN", "bad token"), NO_NGINX));
        assertEquals(List.of(new ConfigError("env AEGIS_API_TOKEN",
                "must not contain spaces, control or non-ASCII characters")), e.errors());
    }

    @Test
    void anUnresolvableHostIsReportedAtEveryPlaceItIsUsed() {
        List<String> errors = errorsOf("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends:
                    - address: "nginx:80"
                    - address: "nginx:81"
                """);
        assertEquals(List.of(
                "proxy.backends[0].address: cannot resolve host \"nginx\"",
                "proxy.backends[1].address: cannot resolve host \"nginx\""), errors);
    }
}
