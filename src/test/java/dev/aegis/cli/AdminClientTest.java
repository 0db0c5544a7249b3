package dev.aegis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aegis.config.AdminConfig;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminClientTest {

    @TempDir
    Path dir;

    @Test
    void theMetricsAddressIsTheFilesNotTheApis() throws Exception {
        Path file = Files.writeString(dir.resolve("a.yaml"),
                "admin:\n  api_address: \"127.0.0.1:7000\"\n  metrics_address: \"[::1]:7001\"\n");
        AdminConfig admin = AdminClient.adminOf(file, Map.of());
        assertEquals(new HostPort("127.0.0.1", 7000), admin.apiAddress());
        assertEquals(new HostPort("::1", 7001), admin.metricsAddress());
    }

    @Test
    void addressesLeftOutAreTheInstancesDefaults() throws Exception {
        AdminConfig admin = AdminClient.adminOf(Files.writeString(dir.resolve("e.yaml"), "proxy: {}\n"), Map.of());
        assertEquals(new HostPort("127.0.0.1", 9090), admin.apiAddress());
        assertEquals(new HostPort("0.0.0.0", 9091), admin.metricsAddress());
        assertEquals("", admin.apiToken());
    }

    @Test
    void theTokenComesFromTheLoadersVariableOverTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("t.yaml"), "admin:\n  api_token: from-file\n");
        assertEquals("from-env",
                AdminClient.adminOf(file, Map.of(ConfigLoader.API_TOKEN_ENV, "from-env")).apiToken());
        assertEquals("from-file", AdminClient.adminOf(file, Map.of(ConfigLoader.API_TOKEN_ENV, "")).apiToken());
        assertEquals("from-file", AdminClient.adminOf(file, Map.of()).apiToken());
    }

    @Test
    void aBadMetricsAddressIsNamedByItsPath() throws Exception {
        Path file = Files.writeString(dir.resolve("b.yaml"), "admin:\n  metrics_address: \"nonsense\"\n");
        var e = assertThrows(java.io.IOException.class, () -> AdminClient.adminOf(file, Map.of()));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("admin.metrics_address: "), e.getMessage());
    }

    @Test
    void backendsArgumentsAreParsedIntoOneCommand() throws Exception {
        assertEquals(new AdminClient.Command("backends", "add", "10.0.0.1:80", 50, "udp"),
                AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:80", "-w", "50", "--udp")));
        assertEquals(new AdminClient.Command("backends", "remove", "10.0.0.1:80", 100, "tcp"),
                AdminClient.Command.parse("backends", List.of("remove", "10.0.0.1:80")));
        assertEquals(new AdminClient.Command("backends", "list", "", 0, "tcp"),
                AdminClient.Command.parse("backends", List.of()));
    }
}
