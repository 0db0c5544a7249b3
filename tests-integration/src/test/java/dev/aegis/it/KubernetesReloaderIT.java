package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reloader sidecar of {@code conf/kubernetes/deployment.yaml}, as shipped, under busybox (the
 * sidecar's image), against a real Aegis with an API token: a changed file is reloaded, a broken
 * one is rejected by Aegis and retried until fixed. Only the file path, the admin address and the
 * poll period are substituted.
 */
class KubernetesReloaderIT {

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private static String config(String backend) {
        return """
                proxy:
                  listen: { tcp: "127.0.0.1:0" }
                  backends: [ { address: "BACKEND" } ]
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                """.replace("BACKEND", backend);
    }

    @Test
    void theSidecarReloadsAegisWhenTheMountedFileChanges() throws Exception {
        assumeTrue(CommandLine.available("busybox"), "busybox is installed by .ci/run");
        TcpEchoBackend first = resources.add(TcpEchoBackend.start("reloader-first"));
        TcpEchoBackend second = resources.add(TcpEchoBackend.start("reloader-second"));
        Map<String, String> token = Map.of("AEGIS_API_TOKEN", "k8s-secret");
        AegisProcess aegis = resources.add(AegisProcess.start("k8s-reloader", config(first.address()), token));
        InetSocketAddress admin = aegis.admin().orElseThrow();

        String script = sidecarScript()
                .replace("/etc/aegis/aegis.yaml", aegis.configFile().toString())
                .replace("127.0.0.1:9090", "127.0.0.1:" + admin.getPort())
                .replace("sleep 10", "sleep 0.2");
        Path log = AegisProcess.workFile("k8s-reloader-sidecar", "log");
        ProcessBuilder pb = new ProcessBuilder("busybox", "sh", "-c", script).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("PATH", busyboxApplets("sleep", "md5sum", "cut", "wget").toString());
        pb.environment().putAll(token);
        Process sidecar = pb.start();
        resources.add(() -> {
            sidecar.destroy();
            sidecar.waitFor(10, TimeUnit.SECONDS);
        });

        // the script reads the file's first checksum when it starts: change the file after that
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("watching "));
        int mark = aegis.mark();
        aegis.writeConfig(config(second.address()));
        aegis.awaitLog(mark, "reloaded generation=2", Duration.ofSeconds(60));

        mark = aegis.mark();
        aegis.writeConfig(config("127.0.0.1:70000")); // a bad port: rejected, the running config stays
        aegis.awaitLog(mark, "reload rejected", Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("reload failed"));

        aegis.writeConfig(config(first.address()));
        aegis.awaitLog(mark, "reloaded generation=3", Duration.ofSeconds(60));
        assertTrue(sidecar.isAlive(), Files.readString(log));
    }

    /** The reloader container's script from the shipped Deployment. */
    private static String sidecarScript() throws Exception {
        Path manifest = AegisProcess.home().resolve("conf/kubernetes/deployment.yaml");
        JsonNode deployment = new YAMLMapper().readTree(manifest.toFile());
        for (JsonNode c : deployment.path("spec").path("template").path("spec").path("containers")) {
            if (c.path("name").asText().equals("reloader")) {
                List<String> command = List.of(c.path("command").get(0).asText(), c.path("command").get(1).asText());
                assertTrue(command.equals(List.of("/bin/sh", "-c")), command.toString());
                return c.path("args").get(0).asText();
            }
        }
        throw new AssertionError("no reloader container in " + manifest);
    }

    /** A directory of busybox applets, so that the script runs busybox's wget as the image would. */
    private static Path busyboxApplets(String... applets) throws Exception {
        Path dir = Files.createTempDirectory(AegisProcess.workDir(), "busybox-bin");
        Path busybox = Path.of(CommandLine.run(AegisProcess.home(), 10, "sh", "-c", "command -v busybox").output().trim());
        for (String applet : applets) {
            Files.createSymbolicLink(dir.resolve(applet), busybox);
        }
        return dir;
    }
}
