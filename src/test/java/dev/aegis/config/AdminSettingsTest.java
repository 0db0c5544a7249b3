package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminSettingsTest {

    @TempDir
    Path dir;

    @Test
    void readsTheAdminScalarsOfAFileThatIsOtherwiseInvalid() throws IOException {
        Path file = Files.writeString(dir.resolve("a.yaml"),
                "proxy: {listen: 5, nonsense: yes}\nadmin: {api_address: \"127.0.0.1:7000\", api_token: t0k, extra: ~}\n");
        assertEquals(Map.of("api_address", "127.0.0.1:7000", "api_token", "t0k"), ConfigLoader.adminSettings(file));
    }

    @Test
    void anEmptyFileOrNoAdminSectionGivesNoSettings() throws IOException {
        assertEquals(Map.of(), ConfigLoader.adminSettings(Files.writeString(dir.resolve("e.yaml"), "# empty\n")));
        assertEquals(Map.of(), ConfigLoader.adminSettings(Files.writeString(dir.resolve("p.yaml"), "proxy: {}\n")));
    }

    @Test
    void aFileThatIsNotYamlIsAnError() throws IOException {
        Path file = Files.writeString(dir.resolve("b.yaml"), "admin: [1\n");
        IOException e = assertThrows(IOException.class, () -> ConfigLoader.adminSettings(file));
        assertEquals("YAML syntax error at line 2, column 1: expected ',' or ']', but got <stream end> "
                + "(while parsing a flow sequence at line 1, column 8)", e.getMessage());
    }
}
