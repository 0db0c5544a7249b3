package dev.aegis.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@code curl}, with its default headers, is served by every endpoint (the Host and Origin checks let it through). */
class CurlTest {

    @TempDir
    Path dir;

    private TcpEcho backend;
    private TcpEcho other;
    private AdminFixture fx;

    @AfterEach
    void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
        if (backend != null) {
            backend.close();
            other.close();
        }
    }

    @Test
    void curlWithDefaultHeadersReachesEveryEndpoint() throws Exception {
        assumeTrue(curlAvailable(), "curl on PATH");
        backend = new TcpEcho();
        other = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend), "");
        String base = "http://127.0.0.1:" + fx.admin.address().getPort();
        String local = "http://localhost:" + fx.admin.address().getPort();
        assertEquals("200", curl(base + "/health"));
        assertEquals("200", curl(local + "/status"));
        assertEquals("200", curl(base + "/backends"));
        assertEquals("200", curl(base + "/dashboard"));
        assertEquals("200", curl("-X", "POST", base + "/drain"));
        assertEquals("200", curl("-X", "POST", base + "/resume"));
        assertEquals("200", curl("-X", "POST", base + "/reload"));
        String add = "{\"address\":\"" + other.id() + "\"}";
        assertEquals("201", curl("-H", "Content-Type: application/json", "-d", add, base + "/backends"));
        assertEquals("415", curl("-d", add, base + "/backends"), "curl -d alone sends a form");
        assertEquals("200", curl("-X", "DELETE", base + "/backends/" + other.id()));
    }

    private static boolean curlAvailable() {
        try {
            Process p = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** @return the HTTP status curl got, as text */
    private static String curl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            return "";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "curl finished");
        return out;
    }
}
