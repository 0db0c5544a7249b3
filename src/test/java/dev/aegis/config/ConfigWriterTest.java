package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigWriterTest {

    private static final String FULL = """
            proxy:
              listen: {tcp: "127.0.0.1:8080", udp: "[::1]:8081"}
              backends:
                - address: "127.0.0.1:3000"
                  weight: 50
                  max_connections: 10
                  health_check: {interval: 1m30s, timeout: 1500ms, path: /health, scheme: https, healthy_threshold: 4}
                - address: "127.0.0.1:3001"
              udp_backends:
                - address: "127.0.0.1:5001"
                  health_check: {interval: 2s, timeout: 250ms}
              load_balancing: {algorithm: weighted_round_robin, session_affinity: true, panic_threshold: 25, slow_start: 1m30s}
              traffic:
                rate_limit:
                  requests_per_second: 2.5
                  per_client: {requests_per_second: 10, burst: 20}
                  per_connection: {bytes_per_second: 1000000}
                timeout: {connect: 500ms, idle: 2m, read: 1h, udp_session: 45s}
                retries: 0
                max_connections: 1000
                udp_max_sessions: 50
              circuit_breaker: {error_threshold: 3, timeout: 10s}
            admin: {api_address: "127.0.0.1:0", metrics_address: "127.0.0.1:0", api_token: "s3cret",
                    allowed_hosts: [aegis.internal, "10.0.0.7"]}
            logging: {level: DEBUG, access_log: false}
            shutdown: {drain_timeout: 0s}
            """;

    private static AegisConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Map.of(), host -> true).config();
    }

    @Test
    void writesYamlNamesDurationsAsWrittenAndMasksTheToken() throws ConfigException {
        Map<String, Object> tree = ConfigWriter.toMap(parse(FULL));
        assertEquals(List.of("proxy", "admin", "logging", "shutdown"), List.copyOf(tree.keySet()));
        Map<?, ?> proxy = (Map<?, ?>) tree.get("proxy");
        assertEquals(Map.of("tcp", "127.0.0.1:8080", "udp", "[::1]:8081"), proxy.get("listen"));
        Map<?, ?> first = (Map<?, ?>) ((List<?>) proxy.get("backends")).get(0);
        assertEquals(Map.of("interval", "1m30s", "timeout", "1500ms", "path", "/health", "scheme", "https",
                "healthy_threshold", 4, "unhealthy_threshold", 3), first.get("health_check"));
        assertEquals(Map.of("algorithm", "weighted", "session_affinity", true, "panic_threshold", 25, "slow_start", "1m30s"),
                proxy.get("load_balancing"));
        Map<?, ?> rate = (Map<?, ?>) ((Map<?, ?>) proxy.get("traffic")).get("rate_limit");
        assertEquals(2.5, rate.get("requests_per_second"));
        assertEquals(3L, rate.get("burst"));
        assertEquals(10L, ((Map<?, ?>) rate.get("per_client")).get("requests_per_second"));
        assertEquals(Map.of("api_address", "127.0.0.1:0", "metrics_address", "127.0.0.1:0", "api_token", "***",
                "allowed_hosts", List.of("aegis.internal", "10.0.0.7")), tree.get("admin"));
        assertEquals(Map.of("level", "debug", "access_log", false), tree.get("logging"));
        assertEquals(Map.of("drain_timeout", "0s"), tree.get("shutdown"));
    }

    @Test
    void leavesOutWhatIsNotConfigured() throws ConfigException {
        Map<String, Object> tree = ConfigWriter.toMap(ConfigLoader.parse("""
                proxy:
                  listen: {udp: "127.0.0.1:8081"}
                  backends: [{address: "127.0.0.1:3000", health_check: {}}]
                """, Map.of(), host -> true).config());
        Map<?, ?> proxy = (Map<?, ?>) tree.get("proxy");
        assertEquals(Map.of("udp", "127.0.0.1:8081"), proxy.get("listen"));
        assertFalse(proxy.containsKey("udp_backends"));
        Map<?, ?> check = (Map<?, ?>) ((Map<?, ?>) ((List<?>) proxy.get("backends")).get(0)).get("health_check");
        assertFalse(check.containsKey("path"));
        assertFalse(((Map<?, ?>) proxy.get("load_balancing")).containsKey("slow_start"));
        assertEquals("", ((Map<?, ?>) tree.get("admin")).get("api_token"));
    }

    @Test
    void theWrittenTreeLoadsBackToTheSameConfig() throws Exception {
        for (String yaml : List.of(FULL.replace("s3cret", ""), "proxy:\n  listen: {tcp: \":1\"}\n  backends: [{address: \"a:1\"}]\n")) {
            AegisConfig config = parse(yaml);
            String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config));
            assertEquals(config, parse(written), written);
        }
        AegisConfig shipped = ConfigLoader.load(Path.of("conf/aegis.yaml"), Map.of()).config();
        assertEquals(shipped, parse(new YAMLMapper().writeValueAsString(ConfigWriter.toMap(shipped))));
    }

    @Test
    void acceptFromIsWrittenInNormalFormWhenSetAndReadsBack() throws Exception {
        AegisConfig config = parse("""
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  backends: [{address: "127.0.0.1:3000"}]
                  proxy_protocol: {accept_from: ["10.1.2.3/8", "::1", "192.0.2.7"]}
                """);
        Map<?, ?> proxy = (Map<?, ?>) ConfigWriter.toMap(config).get("proxy");
        assertEquals(Map.of("send", "none", "accept_from", List.of("10.0.0.0/8", "0:0:0:0:0:0:0:1/128", "192.0.2.7/32")),
                proxy.get("proxy_protocol"));
        String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config));
        assertEquals(config, parse(written), written);
    }

    @Test
    void queueBackendRemovalAndMaxLifetimeAreWrittenWhenSetAndReadBack() throws Exception {
        AegisConfig config = parse("""
                services:
                  - name: web
                    listen: {tcp: "127.0.0.1:8080"}
                    backends: [{address: "127.0.0.1:3000", max_connections: 2}]
                    queue: {size: 3, timeout: 1500ms}
                    backend_removal: close
                    traffic: {timeout: {max_lifetime: 10m}}
                """);
        Map<?, ?> web = (Map<?, ?>) ((List<?>) ConfigWriter.toMap(config).get("services")).get(0);
        assertEquals(Map.of("size", 3, "timeout", "1500ms"), web.get("queue"));
        assertEquals("close", web.get("backend_removal"));
        assertEquals("10m", ((Map<?, ?>) ((Map<?, ?>) web.get("traffic")).get("timeout")).get("max_lifetime"));
        String written = new YAMLMapper().writeValueAsString(ConfigWriter.toMap(config));
        assertEquals(config, parse(written), written);

        ServiceConfig defaults = parse("proxy:\n  listen: {tcp: \":1\"}\n  backends: [{address: \"a:1\"}]\n").services().get(0);
        assertEquals(QueueConfig.NONE, defaults.queue());
        assertEquals(BackendRemoval.DRAIN, defaults.backendRemoval());
        assertEquals(java.time.Duration.ZERO, defaults.traffic().timeout().maxLifetime());
    }

    @Test
    void theTreeSerialisesAsJson() throws Exception {
        String json = new ObjectMapper().writeValueAsString(ConfigWriter.toMap(parse(FULL)));
        assertEquals(Map.of("drain_timeout", "0s"), new ObjectMapper().readValue(json, Map.class).get("shutdown"));
        assertFalse(json.contains("s3cret"));
    }
}
