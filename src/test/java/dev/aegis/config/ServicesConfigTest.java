package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Several services in one file (SPEC §9): what loads, what is refused, and what is written back. */
class ServicesConfigTest {

    private static final String THREE = """
            services:
              - name: pg
                listen:
                  tcp: ["127.0.0.1:15432", "[::1]:15432"]
                backends:
                  - address: "10.0.0.5:5432"
                  - address: "[2001:db8::6]:5432"
                    weight: 50
                load_balancing: {algorithm: least_connections}
              - name: dns
                listen: {udp: "127.0.0.1:10053"}
                backends: [{address: "10.0.0.20:53"}]
                udp: {responses: 1}
              - name: turn
                listen:
                  udp: "127.0.0.1:40000-40020"
                backends:
                  - address: "127.0.0.1"
                  - address: "[::1]"
                udp: {session_timeout: 10m, per_packet: true}
            admin: {api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0"}
            """;

    private static LoadedConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of(), ConfigErrorsTest.NO_NGINX);
    }

    private static List<String> errorsOf(String yaml) {
        return ConfigErrorsTest.errorsOf(yaml);
    }

    private static ServiceConfig defaults() throws ConfigException {
        return parse("proxy:\n  listen: {tcp: \"127.0.0.1:1\"}\n  backends: [{address: \"127.0.0.1:2\"}]\n")
                .config().services().get(0);
    }

    // ---------------------------------------------------------------- what loads

    @Test
    void anIpv4EntryBesideTheIpv6WildcardOnOnePortIsServedByTheDualStackSocket() throws ConfigException {
        ServiceConfig s = parse("""
                services:
                  - name: postgres
                    listen:
                      tcp: ["0.0.0.0:15432", "[::]:15432", "127.0.0.1:15433"]
                    backends: [ { address: "127.0.0.1:5432" } ]
                """).config().services().get(0);
        // SPEC §9's own example: [::] takes IPv4 clients too, so 0.0.0.0 is not bound a second time
        assertEquals(List.of(new HostPort("::", 15432), new HostPort("127.0.0.1", 15433)), s.listen().tcpAddresses());
    }

    @Test
    void threeServicesLoadInFileOrderWithTheirListenersPoolsAndUdpModes() throws ConfigException {
        LoadedConfig loaded = parse(THREE);
        assertEquals(List.of(), loaded.warnings());
        AegisConfig config = loaded.config();
        assertEquals(List.of("pg", "dns", "turn"), config.serviceNames());
        assertFalse(config.isSingleProxy());

        ServiceConfig pg = config.service("pg").orElseThrow();
        assertEquals(new ListenConfig(
                List.of(new ListenRange("127.0.0.1", 15432, 15432), new ListenRange("::1", 15432, 15432)), List.of()),
                pg.listen());
        assertEquals(List.of(new HostPort("127.0.0.1", 15432), new HostPort("::1", 15432)), pg.listen().tcpAddresses());
        assertEquals(List.of("10.0.0.5:5432", "[2001:db8::6]:5432"), pg.backends().stream().map(BackendConfig::id).toList());
        assertEquals(50, pg.backends().get(1).weight());
        assertEquals(List.of(), pg.udpBackends());
        assertEquals(Algorithm.LEAST_CONNECTIONS, pg.loadBalancing().algorithm());
        assertEquals(UdpModeConfig.DEFAULT, pg.udp());

        ServiceConfig dns = config.service("dns").orElseThrow();
        assertFalse(dns.listen().hasTcp());
        assertEquals(List.of(new HostPort("127.0.0.1", 10053)), dns.listen().udpAddresses());
        assertEquals(new UdpModeConfig(1, false), dns.udp());
        assertEquals(defaults().traffic(), dns.traffic());

        ServiceConfig turn = config.service("turn").orElseThrow();
        assertEquals(List.of(new ListenRange("127.0.0.1", 40000, 40020)), turn.listen().udp());
        assertEquals(21, turn.listen().udpAddresses().size());
        assertEquals(new HostPort("127.0.0.1", 40020), turn.listen().udpAddresses().get(20));
        assertEquals(List.of(new HostPort("127.0.0.1", 0), new HostPort("::1", 0)),
                turn.backends().stream().map(BackendConfig::address).toList());
        assertTrue(turn.backends().stream().allMatch(BackendConfig::portless));
        assertEquals(List.of("127.0.0.1", "[::1]"), turn.backends().stream().map(BackendConfig::id).toList());
        assertEquals(new UdpModeConfig(0, true), turn.udp());
        assertEquals(Duration.ofMinutes(10), turn.traffic().timeout().udpSession());
        assertEquals(turn.backends(), turn.effectiveUdpBackends());
    }

    @Test
    void aProxyBlockIsOneServiceNamedDefault() throws ConfigException {
        AegisConfig config = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080", udp: "127.0.0.1:8081"}
                  backends: [{address: "127.0.0.1:3000"}]
                """).config();
        assertEquals(List.of("default"), config.serviceNames());
        assertTrue(config.isSingleProxy());
        assertEquals(UdpModeConfig.DEFAULT, config.service("default").orElseThrow().udp());
    }

    @Test
    void aProxyBlockTakesTheUdpBlockToo() throws ConfigException {
        ServiceConfig proxy = parse("""
                proxy:
                  listen: {udp: "127.0.0.1:8081"}
                  backends: [{address: "127.0.0.1:3000"}]
                  udp: {responses: 2, session_timeout: 90s}
                """).config().services().get(0);
        assertEquals(new UdpModeConfig(2, false), proxy.udp());
        assertEquals(Duration.ofSeconds(90), proxy.traffic().timeout().udpSession());
    }

    @Test
    void proxyProtocolSendIsNoneUnlessSetAndTakesV1ForTcpAndV2ForBoth() throws ConfigException {
        assertEquals(ProxyProtocolConfig.DEFAULT, defaults().proxyProtocol());
        ServiceConfig v1 = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:1"}
                  backends: [{address: "127.0.0.1:2"}]
                  proxy_protocol: {send: v1}
                """).config().services().get(0);
        assertEquals(ProxyProtocolConfig.Send.V1, v1.proxyProtocol().send());
        ServiceConfig v2 = parse("""
                services:
                  - name: dns
                    listen: {tcp: "127.0.0.1:1", udp: "127.0.0.1:1"}
                    backends: [{address: "127.0.0.1:2"}]
                    proxy_protocol: {send: V2}
                """).config().services().get(0);
        assertEquals(ProxyProtocolConfig.Send.V2, v2.proxyProtocol().send());
    }

    @Test
    void proxyProtocolSendIsWrittenBackOnlyWhenOn() throws Exception {
        String yaml = """
                services:
                  - name: web
                    listen: {tcp: "127.0.0.1:1"}
                    backends: [{address: "127.0.0.1:2"}]
                    proxy_protocol: {send: v2}
                  - name: plain
                    listen: {tcp: "127.0.0.1:3"}
                    backends: [{address: "127.0.0.1:4"}]
                """;
        AegisConfig config = parse(yaml).config();
        Map<String, Object> tree = ConfigWriter.toMap(config);
        List<?> services = (List<?>) tree.get("services");
        assertEquals(Map.of("send", "v2"), ((Map<?, ?>) services.get(0)).get("proxy_protocol"));
        assertFalse(((Map<?, ?>) services.get(1)).containsKey("proxy_protocol"));
        assertEquals(config, parse(new YAMLMapper().writeValueAsString(tree)).config());
    }

    @Test
    void udpSessionTimeoutHasTwoNamesEitherOfWhichWorks() throws ConfigException {
        String service = "services:\n  - name: s\n    listen: {udp: \"127.0.0.1:1\"}\n"
                + "    backends: [{address: \"127.0.0.1:2\"}]\n";
        TimeoutConfig byUdp = parse(service + "    udp: {session_timeout: 10m}\n")
                .config().services().get(0).traffic().timeout();
        TimeoutConfig byTraffic = parse(service + "    traffic: {timeout: {udp_session: 10m}}\n")
                .config().services().get(0).traffic().timeout();
        assertEquals(Duration.ofMinutes(10), byUdp.udpSession());
        assertEquals(byTraffic, byUdp);
        // The other timeouts are untouched by udp.session_timeout.
        TimeoutConfig defaults = defaults().traffic().timeout();
        assertEquals(new TimeoutConfig(defaults.connect(), defaults.idle(), defaults.read(), Duration.ofMinutes(10)), byUdp);
    }

    @Test
    void tcpAndUdpOnOnePortAreNoConflictWithinAServiceOrAcrossTwo() throws ConfigException {
        AegisConfig config = parse("""
                services:
                  - name: dns
                    listen: {udp: "0.0.0.0:10053", tcp: "127.0.0.1:10053"}
                    backends: [{address: "127.0.0.1:53"}]
                  - name: other
                    listen: {tcp: "[::]:10054", udp: "127.0.0.1:10054"}
                    backends: [{address: "127.0.0.1:54"}]
                admin: {api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0"}
                """).config();
        assertEquals(List.of("dns", "other"), config.serviceNames());
    }

    @Test
    void twoServicesOnOnePortOfDifferentHostsOrPort0AreNoConflict() throws ConfigException {
        AegisConfig config = parse("""
                services:
                  - name: a
                    listen: {tcp: ["127.0.0.1:10053", "127.0.0.1:0"]}
                    backends: [{address: "127.0.0.1:53"}]
                  - name: b
                    listen: {tcp: ["127.0.0.2:10053", "[::1]:10053", "127.0.0.1:0"]}
                    backends: [{address: "127.0.0.1:54"}]
                admin: {api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0"}
                """).config();
        assertEquals(2, config.services().size());
    }

    @Test
    void aPortlessBackendIsAllowedWheneverTheServiceListensOnSeveralPorts() throws ConfigException {
        for (String listen : List.of(
                "{udp: \"127.0.0.1:40000-40001\"}",
                "{tcp: [\"127.0.0.1:40000\", \"127.0.0.1:40001\"]}",
                "{tcp: \"127.0.0.1:40000\", udp: \"127.0.0.1:40001\"}")) {
            ServiceConfig service = parse("services:\n  - name: s\n    listen: " + listen
                    + "\n    backends: [{address: \"localhost\"}]\n    udp_backends: [{address: \"[::1]\"}]\n")
                    .config().services().get(0);
            assertEquals(new HostPort("localhost", 0), service.backends().get(0).address(), listen);
            assertEquals("[::1]", service.udpBackends().get(0).id(), listen);
        }
    }

    @Test
    void aPortlessBackendIsRefusedInAServiceOnOnePortWhicheverPool() {
        List<String> errors = errorsOf("""
                services:
                  - name: s
                    listen: {tcp: ["127.0.0.1:40000", "[::1]:40000"], udp: "127.0.0.1:40000"}
                    backends: [{address: "localhost"}]
                    udp_backends: [{address: "127.0.0.1:53"}, {address: "127.0.0.2"}]
                """);
        String why = " (expected host:port; a backend may leave its port out only in a service that listens on several ports)";
        assertEquals(List.of(
                "services[0].backends[0].address: missing port in \"localhost\"" + why,
                "services[0].udp_backends[1].address: missing port in \"127.0.0.2\"" + why), errors);
    }

    @Test
    void aServiceMayBindExactly1024PortsInAll() throws ConfigException {
        ServiceConfig service = parse("""
                services:
                  - name: s
                    listen:
                      udp: ["127.0.0.1:40000-40999", "[::1]:40000-40022"]
                      tcp: "127.0.0.1:50000"
                    backends: [{address: "127.0.0.1"}]
                """).config().services().get(0);
        assertEquals(1023, service.listen().udpAddresses().size());
        assertEquals(1024, service.listen().udpAddresses().size() + service.listen().tcpAddresses().size());
        // The limit is per service: a second service may bind as many.
        assertEquals(2, parse("""
                services:
                  - name: a
                    listen: {udp: "127.0.0.1:40000-41023"}
                    backends: [{address: "127.0.0.1"}]
                  - name: b
                    listen: {udp: "127.0.0.1:50000-51023"}
                    backends: [{address: "127.0.0.1"}]
                """).config().services().size());
    }

    @Test
    void theUdpBlockOfATcpOnlyServiceIsIgnoredWithAWarning() throws ConfigException {
        LoadedConfig loaded = parse("""
                services:
                  - name: s
                    listen: {tcp: "127.0.0.1:1"}
                    backends: [{address: "127.0.0.1:2"}]
                    udp: {responses: 1}
                """);
        assertEquals(List.of("services[0].udp: ignored: there is no services[0].listen.udp"), loaded.warnings());
    }

    // ---------------------------------------------------------------- what is refused, all at once

    @Test
    void everyMistakeOfEveryServiceIsReportedAtOnce() {
        List<String> errors = errorsOf("""
                services:
                  - name: Pg
                    listen: {tcp: "127.0.0.1:15432"}
                    backends: [{address: "127.0.0.1:5432"}]
                  - name: dns
                    listen: {udp: "127.0.0.1:10053", tcp: "127.0.0.1:10053"}
                    backends: [{address: "127.0.0.1"}]
                    udp: {responses: -1}
                  - name: dns
                    listen: {udp: ["0.0.0.0:10053", "127.0.0.1:40010-40000"], tcp: "127.0.0.1:15432"}
                    backends: [{address: "127.0.0.1:53"}]
                    lisen: {}
                  - name: turn
                    listen: {udp: "127.0.0.1:39990-40005"}
                    backends: [{address: "127.0.0.1"}]
                    udp: {session_timeout: 10m}
                    traffic: {timeout: {udp_session: 1m}}
                """);
        assertEquals(List.of(
                "services[0].name: must match [a-z0-9][a-z0-9_-]{0,31} (lower case letters, digits, - and _), got \"Pg\"",
                "services[1].backends[0].address: missing port in \"127.0.0.1\" (expected host:port; a backend may leave "
                        + "its port out only in a service that listens on several ports)",
                "services[1].udp.responses: must not be negative, got -1",
                "services[2].name: duplicate: services[1].name is also \"dns\"",
                "services[2].lisen: unknown key (did you mean \"listen\"?)",
                "services[2].listen.udp[1]: range \"127.0.0.1:40010-40000\" ends before it starts",
                "services[3].udp.session_timeout: give udp.session_timeout or traffic.timeout.udp_session, not both "
                        + "(they are one setting)",
                "services[2].listen.tcp: tcp 127.0.0.1:15432 of service dns conflicts with services[0].listen.tcp "
                        + "127.0.0.1:15432 of service Pg",
                // Two entries named dns are still two services: both are named, the paths tell them apart.
                "services[2].listen.udp[0]: udp 0.0.0.0:10053 of service dns conflicts with services[1].listen.udp "
                        + "127.0.0.1:10053 of service dns (0.0.0.0 takes the port on every address, IPv4 and IPv6)"),
                errors);
    }

    @Test
    void aConflictNamesBothServicesAndBothPaths() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                services:
                  - name: postgres
                    listen: {tcp: ["127.0.0.1:15432", "127.0.0.1:15433"]}
                    backends: [{address: "127.0.0.1:5432"}]
                  - name: pgbouncer
                    listen: {tcp: "127.0.0.1:15433"}
                    backends: [{address: "127.0.0.1:6432"}]
                """));
        assertEquals(List.of(new ConfigError("services[1].listen.tcp",
                "tcp 127.0.0.1:15433 of service pgbouncer conflicts with services[0].listen.tcp[1] 127.0.0.1:15433 "
                        + "of service postgres")), e.errors());
    }

    @Test
    void aListenRangeOverTheAdminPortsConflictsWithEach() {
        assertEquals(List.of(
                "admin.api_address: 127.0.0.1:9090 conflicts with services[1].listen.tcp 0.0.0.0:9000-9100 of service b "
                        + "(0.0.0.0 takes the port on every address, IPv4 and IPv6)",
                "admin.metrics_address: 0.0.0.0:9091 conflicts with services[1].listen.tcp 0.0.0.0:9000-9100 of service b"),
                errorsOf("""
                        services:
                          - name: a
                            listen: {tcp: "127.0.0.1:1"}
                            backends: [{address: "127.0.0.1:2"}]
                          - name: b
                            listen: {tcp: "0.0.0.0:9000-9100", udp: "127.0.0.1:9090"}
                            backends: [{address: "127.0.0.1"}]
                        """));
        // UDP takes no port from the admin servers, which are TCP.
        assertEquals(List.of(), errorsOfOrNone("""
                services:
                  - name: b
                    listen: {udp: "0.0.0.0:9000-9100"}
                    backends: [{address: "127.0.0.1"}]
                """));
    }

    private static List<String> errorsOfOrNone(String yaml) {
        try {
            parse(yaml);
            return List.of();
        } catch (ConfigException e) {
            return e.errors().stream().map(ConfigError::toString).toList();
        }
    }

    // ---------------------------------------------------------------- written back

    @Test
    void severalServicesAreWrittenAsAListWithRangesAndPortlessBackendsAsWritten() throws ConfigException {
        Map<String, Object> tree = ConfigWriter.toMap(parse(THREE).config());
        assertEquals(List.of("services", "admin", "logging", "shutdown"), List.copyOf(tree.keySet()));
        List<?> services = (List<?>) tree.get("services");
        Map<?, ?> pg = (Map<?, ?>) services.get(0);
        assertEquals("pg", pg.get("name"));
        assertEquals(Map.of("tcp", List.of("127.0.0.1:15432", "[::1]:15432")), pg.get("listen"));
        assertFalse(pg.containsKey("udp"), "a TCP-only service has no udp block to write");
        Map<?, ?> turn = (Map<?, ?>) services.get(2);
        assertEquals(Map.of("udp", "127.0.0.1:40000-40020"), turn.get("listen"));
        assertEquals(List.of("127.0.0.1", "[::1]"),
                ((List<?>) turn.get("backends")).stream().map(b -> ((Map<?, ?>) b).get("address")).toList());
        assertEquals(Map.of("responses", 0, "per_packet", true), turn.get("udp"));
        assertEquals("10m", ((Map<?, ?>) ((Map<?, ?>) turn.get("traffic")).get("timeout")).get("udp_session"));
    }

    @Test
    void theWrittenTreeOfSeveralServicesLoadsBackToTheSameConfigWithoutWarnings() throws Exception {
        for (String yaml : List.of(THREE, THREE.replace("10.0.0.20:53\"}]", "10.0.0.20:53\"}]\n    udp_backends: "
                + "[{address: \"10.0.0.21:53\", health_check: {interval: 1s}}]"), """
                services:
                  - name: only
                    listen: {tcp: "127.0.0.1:1"}
                    backends: [{address: "127.0.0.1:2"}]
                    udp: {per_packet: true}
                """)) {
            LoadedConfig loaded = parse(yaml);
            String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(loaded.config()));
            LoadedConfig reloaded = parse(written);
            assertEquals(loaded.config(), reloaded.config(), written);
            assertEquals(loaded.warnings(), reloaded.warnings(), written);
        }
    }

    @Test
    void oneServiceNamedDefaultIsWrittenAsAProxyBlock() throws Exception {
        AegisConfig config = parse("""
                services:
                  - name: default
                    listen: {tcp: "127.0.0.1:1"}
                    backends: [{address: "127.0.0.1:2"}]
                """).config();
        Map<String, Object> tree = ConfigWriter.toMap(config);
        assertTrue(tree.containsKey("proxy"));
        assertFalse(tree.containsKey("services"));
        assertEquals(config, parse(new YAMLMapper().writeValueAsString(tree)).config());
    }

    @Test
    void aTcpOnlyProxyWrittenBackLoadsWithoutWarnings() throws Exception {
        LoadedConfig loaded = parse("proxy:\n  listen: {tcp: \"127.0.0.1:1\"}\n  backends: [{address: \"127.0.0.1:2\"}]\n");
        LoadedConfig reloaded = parse(new YAMLMapper().writeValueAsString(ConfigWriter.toMap(loaded.config())));
        assertEquals(List.of(), reloaded.warnings());
        assertEquals(loaded.config(), reloaded.config());
    }

    // ---------------------------------------------------------------- the shipped files

    @Test
    void theServicesExampleLoadsWithoutErrorsOrWarnings() throws Exception {
        LoadedConfig loaded = ConfigLoader.load(Path.of("conf/services.example.yaml"), Map.of());
        assertEquals(List.of(), loaded.warnings());
        AegisConfig config = loaded.config();
        assertEquals(List.of("postgres", "dns", "turn"), config.serviceNames());

        ServiceConfig postgres = config.service("postgres").orElseThrow();
        assertEquals(2, postgres.listen().tcpAddresses().size());
        assertFalse(postgres.listen().hasUdp());
        assertEquals(Algorithm.LEAST_CONNECTIONS, postgres.loadBalancing().algorithm());

        ServiceConfig dns = config.service("dns").orElseThrow();
        assertEquals(dns.listen().tcpAddresses(), dns.listen().udpAddresses());
        assertEquals(1, dns.udp().responses());

        ServiceConfig turn = config.service("turn").orElseThrow();
        assertEquals(21, turn.listen().udpAddresses().size());
        assertTrue(turn.backends().get(0).portless());
        assertEquals(Duration.ofMinutes(10), turn.traffic().timeout().udpSession());

        // Runs as any user: loopback only, no privileged port.
        for (ServiceConfig service : config.services()) {
            for (HostPort a : concat(service.listen().tcpAddresses(), service.listen().udpAddresses())) {
                assertTrue(a.port() > 1024, a.toString());
                assertTrue(a.host().startsWith("127.") || a.host().equals("::1"), a.toString());
            }
        }
        AegisConfig written = parse(new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config))).config();
        assertEquals(config, written);
    }

    @Test
    void theDemoConfigIsOneServiceNamedDefault() throws Exception {
        AegisConfig config = ConfigLoader.load(Path.of("conf/demo.yaml"), Map.of()).config();
        assertEquals(List.of("default"), config.serviceNames());
        assertTrue(config.isSingleProxy());
    }

    private static List<HostPort> concat(List<HostPort> a, List<HostPort> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
