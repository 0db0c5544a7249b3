package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.config.HealthCheckConfig.Scheme;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final String MINIMAL = """
            proxy:
              listen:
                tcp: "127.0.0.1:8080"
              backends:
                - address: "127.0.0.1:3000"
            """;
    private static final String GRPC_WARNING =
            "grpc: ignored: Aegis is a single process with no separate control plane";

    @TempDir
    Path dir;

    private static LoadedConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of(), ConfigErrorsTest.NO_NGINX);
    }

    private static List<ConfigError> errorsOf(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).errors();
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ConfigLoaderTest.class.getResource("/config/" + name).toURI());
    }

    @Test
    void fillsEveryDefault() throws ConfigException {
        LoadedConfig loaded = parse(MINIMAL);
        AegisConfig config = loaded.config();
        assertEquals(List.of(), loaded.warnings());

        ServiceConfig proxy = config.services().get(0);
        assertEquals(List.of(new HostPort("127.0.0.1", 8080)), proxy.listen().tcpAddresses());
        assertEquals(List.of(), proxy.listen().udpAddresses());
        assertEquals(List.of(new BackendConfig(new HostPort("127.0.0.1", 3000), 100, 0, Optional.empty())),
                proxy.backends());
        assertEquals(List.of(), proxy.udpBackends());
        assertEquals(proxy.backends(), proxy.effectiveUdpBackends());
        assertEquals(new LoadBalancingConfig(Algorithm.ROUND_ROBIN, false), proxy.loadBalancing());
        assertEquals(new TrafficConfig(
                new RateLimitConfig(0, 0, new RateLimitConfig.PerClient(0, 0), new RateLimitConfig.PerConnection(0, 0)),
                new TimeoutConfig(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(30),
                        Duration.ofSeconds(30)),
                2, 0, 100_000), proxy.traffic());
        assertEquals(new CircuitBreakerConfig(5, Duration.ofSeconds(30)), proxy.circuitBreaker());
        assertEquals(new AdminConfig(new HostPort("127.0.0.1", 9090), new HostPort("0.0.0.0", 9091), ""),
                config.admin());
        assertEquals(new LoggingConfig("info", true), config.logging());
        assertEquals(new ShutdownConfig(Duration.ofSeconds(30)), config.shutdown());
    }

    @Test
    void acceptFromIsAcceptedForAServiceWithAUdpListener() throws ConfigException {
        LoadedConfig loaded = parse("""
                services:
                  - name: dns
                    listen: {udp: "127.0.0.1:8053"}
                    backends: [{address: "127.0.0.1:53"}]
                    proxy_protocol: {accept_from: ["127.0.0.1"], send: v2}
                """);
        ProxyProtocolConfig pp = loaded.config().services().get(0).proxyProtocol();
        assertEquals(List.of("127.0.0.1/32"), pp.acceptFrom().texts());
        assertEquals(ProxyProtocolConfig.Send.V2, pp.send());
    }

    @Test
    void fillsHealthCheckDefaultsWhenTheSectionIsPresent() throws ConfigException {
        LoadedConfig loaded = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends:
                    - address: "127.0.0.1:3000"
                      health_check: {}
                    - address: "127.0.0.1:3001"
                      health_check: {path: /health, scheme: HTTPS, interval: 500ms}
                """);
        List<BackendConfig> backends = loaded.config().services().get(0).backends();
        assertEquals(Optional.of(new HealthCheckConfig(Duration.ofSeconds(5), Duration.ofSeconds(2),
                Optional.empty(), Scheme.HTTP, 2, 3)), backends.get(0).healthCheck());
        assertEquals(Optional.of(new HealthCheckConfig(Duration.ofMillis(500), Duration.ofSeconds(2),
                Optional.of("/health"), Scheme.HTTPS, 2, 3)), backends.get(1).healthCheck());
        assertEquals(List.of("proxy.backends[1].health_check.timeout: longer than the interval (500ms): checks of "
                + "one backend never overlap, so they run less often than the interval"), loaded.warnings());
    }

    @Test
    void burstDefaultsToTheRateAndAtLeastOne() throws ConfigException {
        RateLimitConfig limits = parse(MINIMAL + """
                  traffic:
                    rate_limit:
                      requests_per_second: 250
                      per_client: {requests_per_second: 0.5}
                      per_connection: {bytes_per_second: 1048576, packets_per_second: 100}
                """).config().services().get(0).traffic().rateLimit();
        assertEquals(new RateLimitConfig(250, 250, new RateLimitConfig.PerClient(0.5, 1),
                new RateLimitConfig.PerConnection(1_048_576, 100)), limits);
    }

    @Test
    void loadsTheOriginalAegisConfigWithOneWarning() throws Exception {
        LoadedConfig loaded = ConfigLoader.load(resource("original-config.yaml"), Map.of());
        assertEquals(List.of(GRPC_WARNING), loaded.warnings());

        ServiceConfig proxy = loaded.config().services().get(0);
        assertEquals("0.0.0.0:8080", proxy.listen().tcpAddresses().get(0).toString());
        assertEquals("0.0.0.0:8081", proxy.listen().udpAddresses().get(0).toString());
        assertEquals(List.of("localhost:3000", "localhost:3001", "localhost:3002"),
                proxy.backends().stream().map(BackendConfig::id).toList());
        assertEquals(List.of(100, 100, 50), proxy.backends().stream().map(BackendConfig::weight).toList());
        HealthCheckConfig check = proxy.backends().get(2).healthCheck().orElseThrow();
        assertEquals(new HealthCheckConfig(Duration.ofSeconds(5), Duration.ofSeconds(2), Optional.of("/health"),
                Scheme.HTTP, 2, 3), check);
        assertEquals(List.of("localhost:5001", "localhost:5002", "localhost:5003"),
                proxy.udpBackends().stream().map(BackendConfig::id).toList());
        assertTrue(proxy.udpBackends().stream().allMatch(b -> b.healthCheck().isEmpty()));
        assertEquals(new LoadBalancingConfig(Algorithm.ROUND_ROBIN, true), proxy.loadBalancing());
        assertEquals(1000, proxy.traffic().rateLimit().requestsPerSecond());
        assertEquals(100, proxy.traffic().rateLimit().burst());
        assertEquals(new TimeoutConfig(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Duration.ofSeconds(30)), proxy.traffic().timeout());
        assertEquals(new CircuitBreakerConfig(5, Duration.ofSeconds(30)), proxy.circuitBreaker());
        assertEquals(new AdminConfig(new HostPort("0.0.0.0", 9090), new HostPort("0.0.0.0", 9091), ""),
                loaded.config().admin());
    }

    @Test
    void loadsTheOriginalBenchConfigWhenItsBackendHostResolves() throws Exception {
        String text = Files.readString(resource("original-config.bench.yaml"));
        LoadedConfig loaded = ConfigLoader.parse(text, Map.of(), host -> true);
        assertEquals(List.of(GRPC_WARNING), loaded.warnings());
        assertEquals(1000, loaded.config().services().get(0).circuitBreaker().errorThreshold());
        assertEquals(1_000_000, loaded.config().services().get(0).traffic().rateLimit().burst());

        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(text, Map.of(), ConfigErrorsTest.NO_NGINX));
        assertEquals(List.of(new ConfigError("proxy.backends[0].address", "cannot resolve host \"nginx\"")),
                e.errors());
    }

    @Test
    void panicThresholdIsOffByDefaultAndReadAsAPercent() throws ConfigException {
        assertEquals(0, parse(MINIMAL).config().services().get(0).loadBalancing().panicThreshold());
        assertEquals(50, parse(MINIMAL + "  load_balancing: {panic_threshold: 50}\n")
                .config().services().get(0).loadBalancing().panicThreshold());
        assertEquals(100, parse(MINIMAL + "  load_balancing: {panic_threshold: 100}\n")
                .config().services().get(0).loadBalancing().panicThreshold());
    }

    @Test
    void slowStartIsOffByDefaultAndReadAsADuration() throws ConfigException {
        assertEquals(Duration.ZERO, parse(MINIMAL).config().services().get(0).loadBalancing().slowStart());
        assertEquals(Duration.ofSeconds(90), parse(MINIMAL + "  load_balancing: {slow_start: 1m30s}\n")
                .config().services().get(0).loadBalancing().slowStart());
    }

    @Test
    void acceptsWeightedRoundRobinAsAnAliasOfWeighted() throws ConfigException {
        for (String written : List.of("weighted_round_robin", "\"weighted_round_robin\"", "weighted", "WEIGHTED")) {
            LoadedConfig loaded = parse(MINIMAL + "  load_balancing:\n    algorithm: " + written + "\n");
            assertEquals(Algorithm.WEIGHTED, loaded.config().services().get(0).loadBalancing().algorithm(), written);
        }
        assertEquals(Algorithm.LEAST_CONNECTIONS, parse(MINIMAL + "  load_balancing: {algorithm: least_connections}\n")
                .config().services().get(0).loadBalancing().algorithm());
        assertEquals(Algorithm.CONSISTENT_HASH, parse(MINIMAL + "  load_balancing: {algorithm: consistent_hash}\n")
                .config().services().get(0).loadBalancing().algorithm());
    }

    @Test
    void allowedHostsAreAListOfHostNamesEmptyByDefault() throws ConfigException {
        assertEquals(List.of(), parse(MINIMAL).config().admin().allowedHosts());
        assertEquals(List.of("aegis.internal", "Admin-1.example.org", "10.0.0.7", "fd00::7"),
                parse(MINIMAL + "admin:\n  allowed_hosts: [aegis.internal, Admin-1.example.org, \"10.0.0.7\", \"fd00::7\"]\n")
                        .config().admin().allowedHosts());
    }

    @Test
    void allowedHostsRefusesPortsSchemesAndNonLists() {
        assertEquals(List.of(
                        new ConfigError("admin.allowed_hosts[0]",
                                "expected a host name without port or scheme, such as aegis.internal, got \"aegis.internal:9090\""),
                        new ConfigError("admin.allowed_hosts[1]",
                                "expected a host name without port or scheme, such as aegis.internal, got \"http://aegis.internal\""),
                        new ConfigError("admin.allowed_hosts[2]",
                                "expected a host name without port or scheme, such as aegis.internal, got \"\"")),
                errorsOf(MINIMAL + "admin:\n  allowed_hosts: [\"aegis.internal:9090\", \"http://aegis.internal\", \"\"]\n"));
        List<ConfigError> notAList = errorsOf(MINIMAL + "admin:\n  allowed_hosts: aegis.internal\n");
        assertEquals(1, notAList.size(), notAList.toString());
        assertEquals("admin.allowed_hosts", notAList.get(0).path());
        List<ConfigError> misspelt = errorsOf(MINIMAL + "admin:\n  allowed_host: [aegis.internal]\n");
        assertTrue(misspelt.get(0).message().contains("allowed_hosts"), misspelt.toString());
    }

    @Test
    void environmentTokenOverridesTheFileToken() throws ConfigException {
        String yaml = MINIMAL + "admin:\n  api_token: \"from-file\"\n";
        assertEquals("from-env", ConfigLoader.parse(yaml, Map.of("AEGIS_API_TOKEN", "from-env"), host -> true)
                .config().admin().apiToken());
        assertEquals("from-file", ConfigLoader.parse(yaml, Map.of("AEGIS_API_TOKEN", ""), host -> true)
                .config().admin().apiToken());
        assertEquals("from-file", ConfigLoader.parse(yaml, Map.of(), host -> true).config().admin().apiToken());
        assertEquals("from-env", ConfigLoader.parse(MINIMAL, Map.of("AEGIS_API_TOKEN", "from-env"), host -> true)
                .config().admin().apiToken());
    }

    @Test
    void udpOnlyProxyAndUdpPoolLoad() throws ConfigException {
        LoadedConfig loaded = parse("""
                proxy:
                  listen: {udp: "[::1]:0"}
                  backends: [{address: "127.0.0.1:3000"}]
                  udp_backends:
                    - address: "127.0.0.1:5001"
                      health_check: {interval: 3s, path: /health, scheme: https}
                """);
        ServiceConfig proxy = loaded.config().services().get(0);
        assertEquals(List.of(), proxy.listen().tcpAddresses());
        assertEquals(List.of(new HostPort("::1", 0)), proxy.listen().udpAddresses());
        assertEquals(List.of("127.0.0.1:5001"), proxy.effectiveUdpBackends().stream().map(BackendConfig::id).toList());
        HealthCheckConfig check = proxy.udpBackends().get(0).healthCheck().orElseThrow();
        assertEquals(Optional.empty(), check.path());
        assertEquals(List.of(
                "proxy.udp_backends[0].health_check.path: ignored: a UDP health check sends a datagram and waits "
                        + "for any reply",
                "proxy.udp_backends[0].health_check.scheme: ignored: a UDP health check sends a datagram and waits "
                        + "for any reply"), loaded.warnings());
    }

    @Test
    void warnsAboutAUdpPoolWithoutAUdpListenerAndAPoolThatTakesNoTraffic() throws ConfigException {
        LoadedConfig loaded = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends: [{address: "127.0.0.1:3000", weight: 0}]
                  udp_backends: [{address: "127.0.0.1:5001"}]
                """);
        assertEquals(List.of(
                "proxy.backends: every backend has weight 0, so none takes new traffic",
                "proxy.udp_backends: ignored: there is no proxy.listen.udp"), loaded.warnings());
    }

    @Test
    void anEmptyValueMeansTheDefault() throws ConfigException {
        AegisConfig config = parse(MINIMAL + """
                  load_balancing:
                    algorithm:
                  traffic:
                    retries: ~
                admin:
                logging:
                  level: null
                """).config();
        assertEquals(Algorithm.ROUND_ROBIN, config.services().get(0).loadBalancing().algorithm());
        assertEquals(2, config.services().get(0).traffic().retries());
        assertEquals("info", config.logging().level());
    }

    @Test
    void aListenAddressWithoutHostMeansEveryInterface() throws ConfigException {
        assertEquals(List.of(new HostPort("0.0.0.0", 8080)), parse("""
                proxy:
                  listen: {tcp: ":8080"}
                  backends: [{address: "127.0.0.1:3000"}]
                """).config().services().get(0).listen().tcpAddresses());
    }

    @Test
    void anchorsAliasesAndMergeKeysShareSettings() throws ConfigException {
        List<BackendConfig> backends = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends:
                    - address: "127.0.0.1:3000"
                      health_check: &check {path: /health, interval: 1s}
                    - address: "127.0.0.1:3001"
                      health_check: *check
                    - address: "127.0.0.1:3002"
                      health_check:
                        <<: *check
                        interval: 3s
                """).config().services().get(0).backends();
        assertEquals(backends.get(0).healthCheck(), backends.get(1).healthCheck());
        HealthCheckConfig merged = backends.get(2).healthCheck().orElseThrow();
        assertEquals(Optional.of("/health"), merged.path());
        assertEquals(Duration.ofSeconds(3), merged.interval());
    }

    @Test
    void resolvesEachHostOnce() throws ConfigException {
        List<String> asked = new ArrayList<>();
        ConfigLoader.parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080", udp: "127.0.0.1:8081"}
                  backends: [{address: "app:1"}, {address: "app:2"}, {address: "APP:3"}, {address: "db:1"}]
                """, Map.of(), host -> asked.add(host));
        assertEquals(List.of("127.0.0.1", "app", "db"), asked);
    }

    @Test
    void theSystemResolverFindsLocalhost() {
        assertTrue(HostResolver.SYSTEM.resolves("localhost"));
        assertTrue(HostResolver.SYSTEM.resolves("127.0.0.1"));
    }

    // ---------------------------------------------------------------- files that are not a config

    @Test
    void yamlSyntaxErrorIsOneErrorWithItsPosition() {
        assertEquals(List.of(new ConfigError("(file)", "YAML syntax error at line 3, column 1: expected ',' or ']', "
                        + "but got <stream end> (while parsing a flow sequence at line 2, column 11)")),
                errorsOf("proxy:\n  listen: [1\n"));
        List<ConfigError> tab = errorsOf("proxy:\n\tlisten: {}\n");
        assertEquals(1, tab.size());
        assertTrue(tab.get(0).message().startsWith("YAML syntax error at line 2, column 1: "), tab.toString());
    }

    @Test
    void emptyOrCommentOnlyFileIsAnError() {
        ConfigError empty = new ConfigError("(file)",
                "the configuration is empty (proxy.listen and proxy.backends are required)");
        assertEquals(List.of(empty), errorsOf(""));
        assertEquals(List.of(empty), errorsOf("# nothing here\n\n"));
        assertEquals(List.of(empty), errorsOf("---\n"));
        assertEquals(List.of(empty), errorsOf("~\n"));
    }

    @Test
    void topLevelMustBeAMap() {
        assertEquals(List.of(new ConfigError("(file)", "the top level must be a map of sections (proxy or services, admin, "
                + "logging, shutdown), got a list")), errorsOf("- proxy\n- admin\n"));
        assertEquals(List.of(new ConfigError("(file)", "the top level must be a map of sections (proxy or services, admin, "
                + "logging, shutdown), got \"hello\"")), errorsOf("hello\n"));
    }

    @Test
    void aSecondDocumentIsAnError() {
        assertEquals(List.of(new ConfigError("(file)",
                        "more than one YAML document (a second \"---\"); Aegis reads exactly one")),
                errorsOf(MINIMAL + "---\n" + MINIMAL));
    }

    @Test
    void billionLaughsFailsWithAClearError() {
        StringBuilder bomb = new StringBuilder("lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int level = 1; level < 10; level++) {
            bomb.append("lol").append(level).append(": &a").append(level).append(" [");
            bomb.append(String.join(", ", java.util.Collections.nCopies(9, "*a" + (level - 1)))).append("]\n");
        }
        List<ConfigError> errors = errorsOf(MINIMAL + bomb);
        assertEquals(1, errors.size(), errors.toString());
        assertEquals("(file)", errors.get(0).path());
        assertTrue(errors.get(0).message().startsWith("YAML aliases expand to more than 100000 values"),
                errors.toString());
    }

    @Test
    void deepNestingFailsWithAClearError() {
        String lists = "proxy: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n";
        String maps = "proxy: " + "{a: ".repeat(10_000) + "1" + "}".repeat(10_000) + "\n";
        for (String yaml : List.of(lists, maps)) {
            List<ConfigError> errors = errorsOf(yaml);
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).message().startsWith("nested deeper than 64 levels at line 1"), errors.toString());
        }
    }

    @Test
    void anAliasMustFollowACompleteAnchor() {
        assertEquals(List.of(new ConfigError("proxy.backends[0]", "alias *self has no complete anchor &self before it"),
                        new ConfigError("proxy.backends[0].address", "required (host:port)")),
                errorsOf("proxy:\n  listen: {tcp: \"127.0.0.1:1\"}\n  backends: &self [*self]\n"));
    }

    @Test
    void aMergeKeyNeedsAMap() {
        assertEquals(List.of(new ConfigError("proxy.<<", "a merge key needs a map or a list of maps, got 5")),
                errorsOf(MINIMAL + "  <<: 5\n"));
    }

    @Test
    void binaryAndOtherTagsGiveAClearErrorAtTheirPath() {
        String weight = MINIMAL + "      weight: ";
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "expected a whole number, got binary data (!!binary)")),
                errorsOf(weight + "!!binary aGVsbG8=\n"));
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "invalid base64 in a !!binary value at line 6, "
                        + "column 29: Illegal character '@' (code 0x40) in base64 content")),
                errorsOf(weight + "!!binary '@@@'\n"));
        // Tags Jackson does not know are dropped: the value is read as the text it is.
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "expected a whole number, got \"x\"")),
                errorsOf(weight + "!!python/object:os.system x\n"));
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "expected a whole number, got \"3\"")),
                errorsOf(weight + "!custom 3\n"));
    }

    @Test
    void aNumberBeyondTheLengthLimitIsNamedInOurWords() {
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "number too long: 1200 digits (at most 1000)")),
                errorsOf(MINIMAL + "      weight: !!int " + "9".repeat(1200) + "\n"));
    }

    @Test
    void aDuplicateKeyIsNamedByItsPath() {
        assertEquals(List.of(new ConfigError("proxy.backends[0].weight", "duplicate key (a key may appear only once in a map)")),
                errorsOf(MINIMAL + "      weight: 3\n      weight: 4\n"));
    }

    @Test
    void textBeyondTheSizeLimitIsRejected() {
        List<ConfigError> errors = errorsOf(MINIMAL + "#" + "x".repeat(YamlTree.MAX_CODE_POINTS) + "\n");
        assertEquals(List.of(new ConfigError("(file)", "larger than the limit of 4194304 characters")), errors);
    }

    @Test
    void controlCharactersAreNamed() {
        assertEquals(List.of(new ConfigError("(file)",
                        "not a text file: character U+0001 at offset 17 is not allowed in YAML")),
                errorsOf("proxy:\n  listen: \u0001\n"));
        assertEquals(List.of(new ConfigError("(file)", "not a text file (it contains NUL characters)")),
                errorsOf("proxy:\u0000\n"));
    }

    @Test
    void binaryGarbageFailsCleanly() throws IOException {
        byte[] garbage = new byte[4096];
        new Random(42).nextBytes(garbage);
        Path file = Files.write(dir.resolve("garbage.yaml"), garbage);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(1, e.errors().size());
        assertEquals("(file)", e.errors().get(0).path());
        assertTrue(e.errors().get(0).message().startsWith("not a"), e.getMessage());

        for (long seed = 0; seed < 50; seed++) {
            Random random = new Random(seed);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 300; i++) {
                text.append((char) (0x20 + random.nextInt(0x5f)));
                if (random.nextInt(20) == 0) {
                    text.append('\n');
                }
            }
            // Any outcome but an exception other than ConfigException is fine for printable noise.
            try {
                parse(text.toString());
            } catch (ConfigException expected) {
                assertFalse(expected.errors().isEmpty());
            }
        }
    }

    @Test
    void invalidUtf8IsNotText() throws IOException {
        Path file = Files.write(dir.resolve("latin1.yaml"), new byte[] {'a', ':', ' ', (byte) 0xE9, '\n'});
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertEquals(List.of(new ConfigError("(file)", "not a UTF-8 text file (invalid byte at offset 3)")),
                e.errors());
    }

    @Test
    void unreadableFilesAreNamed() throws IOException {
        Path missing = dir.resolve("missing.yaml");
        assertEquals(List.of(new ConfigError("(file)", "cannot read " + missing + ": no such file")),
                assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, Map.of())).errors());
        assertEquals(List.of(new ConfigError("(file)", "cannot read " + dir + ": it is a directory")),
                assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, Map.of())).errors());
        Path huge = Files.write(dir.resolve("huge.yaml"), new byte[YamlTree.MAX_CODE_POINTS + 1]);
        assertEquals(List.of(new ConfigError("(file)", huge + " is 4194305 bytes, more than the limit of 4194304")),
                assertThrows(ConfigException.class, () -> ConfigLoader.load(huge, Map.of())).errors());
    }

    @Test
    void aByteOrderMarkIsIgnored() throws Exception {
        Path file = Files.writeString(dir.resolve("bom.yaml"), "\uFEFF" + MINIMAL);
        assertEquals(8080, ConfigLoader.load(file, Map.of()).config().services().get(0).listen().tcpAddresses().get(0).port());
    }

    // ---------------------------------------------------------------- the shipped files

    @Test
    void theDefaultConfigLoadsWithoutErrorsOrWarnings() throws ConfigException {
        LoadedConfig loaded = ConfigLoader.load(Path.of("conf/aegis.yaml"), Map.of());
        assertEquals(List.of(), loaded.warnings());
        ServiceConfig proxy = loaded.config().services().get(0);
        assertEquals("0.0.0.0:8080", proxy.listen().tcpAddresses().get(0).toString());
        assertEquals("0.0.0.0:8081", proxy.listen().udpAddresses().get(0).toString());
        assertEquals(List.of("localhost:3000", "localhost:3001", "localhost:3002"),
                proxy.backends().stream().map(BackendConfig::id).toList());
        assertTrue(proxy.backends().stream()
                .allMatch(b -> b.healthCheck().flatMap(HealthCheckConfig::path).equals(Optional.of("/health"))));
        assertEquals(List.of("localhost:5001", "localhost:5002", "localhost:5003"),
                proxy.udpBackends().stream().map(BackendConfig::id).toList());
        assertEquals(new AdminConfig(new HostPort("127.0.0.1", 9090), new HostPort("0.0.0.0", 9091), ""),
                loaded.config().admin());
        // The file spells out every default: it must say exactly what a minimal file gets.
        AegisConfig minimal = parse(MINIMAL).config();
        assertEquals(minimal.services().get(0).traffic(), proxy.traffic());
        assertEquals(minimal.services().get(0).circuitBreaker(), proxy.circuitBreaker());
        assertEquals(minimal.services().get(0).loadBalancing(), proxy.loadBalancing());
        assertEquals(minimal.logging(), loaded.config().logging());
        assertEquals(minimal.shutdown(), loaded.config().shutdown());
    }

    @Test
    void theDemoConfigLoadsWithoutErrorsOrWarnings() throws ConfigException {
        LoadedConfig loaded = ConfigLoader.load(Path.of("conf/demo.yaml"), Map.of());
        assertEquals(List.of(), loaded.warnings());
        ServiceConfig proxy = loaded.config().services().get(0);
        assertEquals("127.0.0.1:8080", proxy.listen().tcpAddresses().get(0).toString());
        assertEquals("127.0.0.1:8081", proxy.listen().udpAddresses().get(0).toString());
        assertEquals(List.of("127.0.0.1:3000", "127.0.0.1:3001", "127.0.0.1:3002"),
                proxy.backends().stream().map(BackendConfig::id).toList());
        assertTrue(proxy.backends().stream().allMatch(b -> b.healthCheck().orElseThrow().path().equals(Optional.of("/health"))
                && b.healthCheck().orElseThrow().interval().equals(Duration.ofSeconds(2))));
        assertEquals(List.of("127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"),
                proxy.udpBackends().stream().map(BackendConfig::id).toList());
        assertEquals(new LoadBalancingConfig(Algorithm.ROUND_ROBIN, false), proxy.loadBalancing());
        assertEquals(0, proxy.traffic().rateLimit().requestsPerSecond());
        assertEquals(new AdminConfig(new HostPort("127.0.0.1", 9090), new HostPort("127.0.0.1", 9091), ""),
                loaded.config().admin());
    }
}
