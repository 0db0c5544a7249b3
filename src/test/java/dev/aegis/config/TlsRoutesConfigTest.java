package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** {@code tls_routes} and {@code traffic.timeout.client_hello} (SPEC §10): what is read, what is refused, what is written back. */
class TlsRoutesConfigTest {

    private static final String ROUTES = """
            proxy:
              listen: {tcp: "127.0.0.1:8443"}
              backends: [{address: "127.0.0.1:3000"}]
              tls_routes:
                - server_names: ["api.example.com", "*.internal.example.com"]
                  backends: [{address: "127.0.0.1:3001", weight: 5}, {address: "127.0.0.1:3002"}]
                - server_names: ["db.example.com"]
                  backends: [{address: "127.0.0.1:3003"}]
              traffic: {timeout: {client_hello: 500ms}}
            """;

    private static AegisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of()).config();
    }

    private static List<String> errorsOf(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void readsRoutesWithTheirPoolsAndTheClientHelloTimeout() throws Exception {
        ServiceConfig service = parse(ROUTES).services().get(0);
        assertEquals(2, service.tlsRoutes().size());
        TlsRouteConfig api = service.tlsRoutes().get(0);
        assertEquals(List.of("api.example.com", "*.internal.example.com"), api.serverNames());
        assertEquals(List.of("127.0.0.1:3001", "127.0.0.1:3002"), api.backends().stream().map(BackendConfig::id).toList());
        assertEquals(5, api.backends().get(0).weight());
        assertEquals("tls:api.example.com", api.poolName());
        assertEquals(Duration.ofMillis(500), service.traffic().timeout().clientHello());
    }

    @Test
    void withoutRoutesNothingChangesAndTheTimeoutDefaultsToThreeSeconds() throws Exception {
        ServiceConfig service = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8443"}
                  backends: [{address: "127.0.0.1:3000"}]
                """).services().get(0);
        assertEquals(List.of(), service.tlsRoutes());
        assertEquals(Duration.ofSeconds(3), service.traffic().timeout().clientHello());
        Map<String, Object> written = ConfigWriter.service(service, false);
        assertEquals(false, written.containsKey("tls_routes"));
    }

    @Test
    void theDefaultPoolMayBeEmptyOrAbsentWithRoutes() throws Exception {
        String routesOnly = """
                  tls_routes:
                    - server_names: ["a.test"]
                      backends: [{address: "127.0.0.1:3001"}]
                """;
        String header = "proxy:\n  listen: {tcp: \"127.0.0.1:8443\"}\n";
        assertEquals(List.of(), parse(header + "  backends: []\n" + routesOnly).services().get(0).backends());
        assertEquals(List.of(), parse(header + routesOnly).services().get(0).backends());
        assertEquals(List.of("proxy.backends: must list at least one backend"), errorsOf(header + "  backends: []\n"));
    }

    @Test
    void writesRoutesBackSoThatTheyReadTheSame() throws Exception {
        AegisConfig config = parse(ROUTES);
        String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config));
        assertEquals(config, parse(written), written);

        AegisConfig noDefault = parse(ROUTES.replace("backends: [{address: \"127.0.0.1:3000\"}]", "backends: []"));
        assertEquals(List.of(), noDefault.services().get(0).backends());
        String writtenNoDefault = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(noDefault));
        assertEquals(noDefault, parse(writtenNoDefault), writtenNoDefault);
    }

    static Stream<Arguments> mistakes() {
        String head = "proxy:\n  listen: {tcp: \"127.0.0.1:8443\"}\n  backends: [{address: \"127.0.0.1:3000\"}]\n";
        return Stream.of(
                Arguments.of(head + "  tls_routes: []\n",
                        "proxy.tls_routes: must list at least one route (or leave tls_routes out)"),
                Arguments.of(head + "  tls_routes: [{server_names: [], backends: [{address: \"127.0.0.1:1\"}]}]\n",
                        "proxy.tls_routes[0].server_names: must list at least one server name"),
                Arguments.of(head + "  tls_routes: [{backends: [{address: \"127.0.0.1:1\"}]}]\n",
                        "proxy.tls_routes[0].server_names: required: at least one server name (e.g. [\"api.example.com\"])"),
                Arguments.of(head + "  tls_routes: [{server_names: [\"a..b\"], backends: [{address: \"127.0.0.1:1\"}]}]\n",
                        "proxy.tls_routes[0].server_names[0]: \"a..b\" has an empty label (two dots in a row)"),
                Arguments.of(head + "  tls_routes: [{server_names: [\"a.*.test\"], backends: [{address: \"127.0.0.1:1\"}]}]\n",
                        "proxy.tls_routes[0].server_names[0]: \"a.*.test\" has a '*' other than one leading \"*.\" label"
                                + " (\"*.example.com\")"),
                Arguments.of(head + "  tls_routes:\n"
                                + "    - {server_names: [\"a.test\"], backends: [{address: \"127.0.0.1:1\"}]}\n"
                                + "    - {server_names: [\"b.test\", \"A.test\"], backends: [{address: \"127.0.0.1:2\"}]}\n",
                        "proxy.tls_routes[1].server_names[1]: duplicate: proxy.tls_routes[0].server_names[0] is also \"a.test\""),
                Arguments.of(head + "  tls_routes: [{server_names: [\"a.test\"], backends: []}]\n",
                        "proxy.tls_routes[0].backends: must list at least one backend"),
                Arguments.of(head + "  tls_routes: [{server_names: [\"a.test\"]}]\n",
                        "proxy.tls_routes[0].backends: required: at least one backend (e.g. - address: \"localhost:3000\")"),
                Arguments.of(head + "  tls_routes: [{server_names: [\"a.test\"], backends: [{address: \"127.0.0.1:1\"}], x: 1}]\n",
                        "proxy.tls_routes[0].x: unknown key (expected one of: server_names, backends)"),
                Arguments.of("proxy:\n  listen: {udp: \"127.0.0.1:53\"}\n  backends: [{address: \"127.0.0.1:3000\"}]\n"
                                + "  tls_routes: [{server_names: [\"a.test\"], backends: [{address: \"127.0.0.1:1\"}]}]\n",
                        "proxy.tls_routes: needs a TCP listener (proxy.listen.tcp): TLS routes apply to TCP connections only"),
                Arguments.of(head + "  traffic: {timeout: {client_hello: 0s}}\n",
                        "proxy.traffic.timeout.client_hello: must be at least 1ms, got 0s"));
    }

    @ParameterizedTest
    @MethodSource("mistakes")
    void reportsEachMistakeWithItsPath(String yaml, String expected) {
        assertEquals(List.of(expected), errorsOf(yaml), yaml);
    }
}
