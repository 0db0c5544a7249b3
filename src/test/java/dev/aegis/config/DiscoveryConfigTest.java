package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code discovery:} (SPEC §11) as the loader reads it and the writer writes it back. */
class DiscoveryConfigTest {

    /** Resolves IP literals only: a discovery name is never looked up while loading. */
    private static final HostResolver NOTHING_RESOLVES = host -> host.matches("[0-9.:]+");

    private static AegisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of(), NOTHING_RESOLVES).config();
    }

    @Test
    void readsEveryFieldAndLetsBackendsBeAbsent() throws ConfigException {
        ServiceConfig s = parse("""
                services:
                  - name: pg
                    listen: {tcp: "127.0.0.1:5432"}
                    discovery:
                      dns: {names: ["app.service.consul", "_pg._tcp.db.service.consul"], refresh: 2s, port: 5433}
                      resolvers: ["127.0.0.1:8600", "10.0.0.2"]
                      health_check: {interval: 1s}
                      weight: 50
                """).services().get(0);
        DiscoveryConfig d = s.discovery().orElseThrow();
        assertEquals(List.of("app.service.consul", "_pg._tcp.db.service.consul"), d.names());
        assertEquals(Duration.ofSeconds(2), d.refresh());
        assertEquals(5433, d.port());
        assertEquals(List.of(new HostPort("127.0.0.1", 8600), new HostPort("10.0.0.2", 53)), d.resolvers());
        assertEquals(Duration.ofSeconds(1), d.healthCheck().orElseThrow().interval());
        assertEquals(50, d.weight());
        assertEquals(List.of(), s.backends());
    }

    @Test
    void defaultsAreTenSecondsTheSystemResolverWeightHundredAndNoCheck() throws ConfigException {
        DiscoveryConfig d = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends: []
                  discovery: {dns: {names: ["_http._tcp.web.test"]}}
                """).services().get(0).discovery().orElseThrow();
        assertEquals(new DiscoveryConfig(List.of("_http._tcp.web.test"), Duration.ofSeconds(10), 0, List.of(),
                Optional.empty(), 100), d);
    }

    @Test
    void aNameThatDoesNotResolveNowIsNoErrorAndStaticBackendsMix() throws ConfigException {
        ServiceConfig s = ConfigLoader.parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080", udp: "127.0.0.1:8080"}
                  backends: [{address: "127.0.0.1:3000"}]
                  discovery: {dns: {names: ["nothing.invalid"], port: 3000}}
                """, Map.of(), NOTHING_RESOLVES).config().services().get(0);
        assertEquals(1, s.backends().size());
        assertTrue(s.discovery().isPresent());
    }

    @Test
    void theWrittenTreeLoadsBackToTheSameConfig() throws Exception {
        for (String yaml : List.of("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  discovery:
                    dns: {names: ["app.test", "_x._tcp.test"], refresh: 1500ms, port: 81}
                    resolvers: ["127.0.0.1:8600", "[::1]:53"]
                    health_check: {interval: 3s, path: /health}
                    weight: 0
                """, """
                services:
                  - name: u
                    listen: {udp: "127.0.0.1:53"}
                    discovery: {dns: {names: ["_dns._udp.test"]}, health_check: {}}
                """)) {
            AegisConfig config = parse(yaml);
            String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config));
            assertEquals(config, parse(written), written);
        }
    }
}
