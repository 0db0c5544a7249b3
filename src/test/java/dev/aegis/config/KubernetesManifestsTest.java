package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of {@code conf/kubernetes/} (SPEC §12): the kinds are there, every port the
 * manifests name is the one the ConfigMap's aegis.yaml listens on, the probes ask {@code /health} (readiness) and {@code /status} (liveness)
 * on the admin port, the pod outlives the drain, the reloader reaches {@code /reload} and watches
 * the file Aegis reads, and the discovery name is the headless Service's. No cluster involved.
 */
class KubernetesManifestsTest {

    private static final Path DIR = Path.of("conf/kubernetes");
    private static final YAMLMapper YAML = new YAMLMapper();

    private static List<JsonNode> documents;
    private static JsonNode aegisYaml;

    @BeforeAll
    static void readManifests() throws IOException {
        documents = new ArrayList<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                // multi-document YAML: every `---`-separated object of every file
                try (var values = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
                    while (values.hasNext()) {
                        JsonNode doc = (JsonNode) values.next();
                        if (doc != null && !doc.isEmpty()) {
                            documents.add(doc);
                        }
                    }
                }
            }
        }
        aegisYaml = YAML.readTree(one("ConfigMap", "aegis-config").path("data").path("aegis.yaml").asText());
    }

    @Test
    void hasTheDeploymentItsServiceTheConfigMapAndTheAppsHeadlessService() {
        assertEquals(List.of("ConfigMap", "Deployment", "Service", "Service"),
                documents.stream().map(d -> d.path("kind").asText()).sorted().toList());
        assertEquals("None", one("Service", "app-headless").path("spec").path("clusterIP").asText());
    }

    @Test
    void containerAndServicePortsAreTheOnesTheConfigListensOn() {
        JsonNode aegis = container("aegis");
        assertEquals(port(aegisYaml.path("proxy").path("listen").path("tcp")), containerPort(aegis, "proxy"));
        assertEquals(port(aegisYaml.path("admin").path("api_address")), containerPort(aegis, "admin"));
        assertEquals(port(aegisYaml.path("admin").path("metrics_address")), containerPort(aegis, "metrics"));
        assertTrue(aegisYaml.path("admin").path("api_address").asText().startsWith("0.0.0.0:"),
                "the kubelet probes the pod IP: the admin API must listen on every interface");

        JsonNode service = one("Service", "aegis");
        assertFalse(service.path("spec").path("ports").isEmpty());
        for (JsonNode p : service.path("spec").path("ports")) {
            assertEquals(containerPort(aegis, "proxy"), resolve(aegis, p.path("targetPort")),
                    "the Service sends clients to the listen port: " + p);
        }
        assertEquals(template().path("metadata").path("labels"), service.path("spec").path("selector"),
                "the Service selects the Deployment's pods");
        assertEquals(template().path("metadata").path("labels"),
                deployment().path("spec").path("selector").path("matchLabels"));
    }

    @Test
    void readinessAsksForHealthAndLivenessForStatusOnTheAdminPort() {
        JsonNode aegis = container("aegis");
        // readiness follows the backends (/health: 503 when a pool has none up); liveness must not,
        // or a cluster whose app has no pod up would restart every Aegis (/status: always 200)
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            JsonNode get = aegis.path(probe).path("httpGet");
            assertEquals(probe.equals("readinessProbe") ? "/health" : "/status", get.path("path").asText(), probe);
            assertEquals(port(aegisYaml.path("admin").path("api_address")), resolve(aegis, get.path("port")), probe);
        }
    }

    @Test
    void theGracePeriodOutlastsThePreStopPauseAndTheDrain() {
        Duration drain = Durations.parse(aegisYaml.path("shutdown").path("drain_timeout").asText());
        long preStop = container("aegis").path("lifecycle").path("preStop").path("sleep").path("seconds").asLong(0);
        long grace = template().path("spec").path("terminationGracePeriodSeconds").asLong(30); // 30: Kubernetes' default
        assertTrue(grace > preStop + drain.toSeconds(),
                "terminationGracePeriodSeconds " + grace + " must exceed preStop " + preStop + "s + drain " + drain);
    }

    @Test
    void aegisReadsTheMountedConfigMapAndTheReloaderWatchesItAndPostsReload() {
        JsonNode aegis = container("aegis");
        String configFile = mountPath(aegis) + "/aegis.yaml";
        List<String> command = new ArrayList<>();
        aegis.path("command").forEach(c -> command.add(c.asText()));
        aegis.path("args").forEach(c -> command.add(c.asText()));
        assertTrue(command.get(0).endsWith("bin/aegis"), command.toString());
        assertEquals("start", command.get(1));
        assertEquals(configFile, command.get(command.indexOf("-c") + 1));

        JsonNode reloader = container("reloader");
        assertEquals(mountPath(aegis), mountPath(reloader));
        String script = reloader.path("args").get(0).asText();
        assertTrue(script.contains(configFile), script);
        assertTrue(script.contains("http://127.0.0.1:" + port(aegisYaml.path("admin").path("api_address")) + "/reload"),
                script);
        assertTrue(script.contains("Content-Type: application/json"), "the admin API answers 415 to other bodies");
    }

    @Test
    void theConfigDiscoversTheHeadlessServiceByDns() {
        JsonNode headless = one("Service", "app-headless");
        String name = headless.path("metadata").path("name").asText() + "."
                + headless.path("metadata").path("namespace").asText("default") + ".svc.cluster.local";
        JsonNode dns = aegisYaml.path("proxy").path("discovery").path("dns");
        assertEquals(name, dns.path("names").get(0).asText());
        assertEquals(headless.path("spec").path("ports").get(0).path("port").asInt(), dns.path("port").asInt());
        assertFalse(aegisYaml.path("proxy").has("backends"), "the backends are what DNS answers");
    }

    /** The ConfigMap's aegis.yaml loads through the real loader as it is, discovery and all (no backends listed). */
    @Test
    void theConfigMapsConfigLoadsWithItsDiscovery() throws ConfigException {
        AegisConfig config = ConfigLoader.parse(aegisYaml.toString(), Map.of()).config();
        ServiceConfig service = config.services().get(0);
        assertEquals(LoadBalancingConfig.Algorithm.CONSISTENT_HASH, service.loadBalancing().algorithm());
        assertEquals(Duration.ofSeconds(30), service.loadBalancing().slowStart());
        assertTrue(service.discovery().isPresent(), "the headless Service is discovered by DNS");
        assertTrue(service.discovery().get().names().get(0).endsWith(".svc.cluster.local"),
                service.discovery().get().names().toString());
    }

    private static JsonNode one(String kind, String name) {
        for (JsonNode d : documents) {
            if (d.path("kind").asText().equals(kind) && d.path("metadata").path("name").asText().equals(name)) {
                return d;
            }
        }
        throw new AssertionError("no " + kind + " " + name + " in " + DIR);
    }

    private static JsonNode deployment() {
        return one("Deployment", "aegis");
    }

    private static JsonNode template() {
        return deployment().path("spec").path("template");
    }

    private static JsonNode container(String name) {
        for (JsonNode c : template().path("spec").path("containers")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no container " + name);
    }

    private static int containerPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(name)) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port " + name);
    }

    /** A probe's or Service's port: a number, or the name of one of the container's ports. */
    private static int resolve(JsonNode container, JsonNode port) {
        return port.isInt() ? port.asInt() : containerPort(container, port.asText());
    }

    /** Where the ConfigMap volume is mounted in {@code container}: whole, never with subPath (not updated). */
    private static String mountPath(JsonNode container) {
        String volume = null;
        for (JsonNode v : template().path("spec").path("volumes")) {
            if (v.path("configMap").path("name").asText().equals("aegis-config")) {
                volume = v.path("name").asText();
            }
        }
        assertNotNull(volume, "a volume of the ConfigMap aegis-config");
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("name").asText().equals(volume)) {
                assertFalse(m.has("subPath"), "a subPath mount never sees ConfigMap updates");
                return m.path("mountPath").asText();
            }
        }
        throw new AssertionError(container.path("name").asText() + " does not mount " + volume);
    }

    /** The port of a {@code host:port} text. */
    private static int port(JsonNode hostPort) {
        String text = hostPort.asText();
        return Integer.parseInt(text.substring(text.lastIndexOf(':') + 1));
    }
}
