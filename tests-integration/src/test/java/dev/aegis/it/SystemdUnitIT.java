package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code systemd-analyze verify} on the shipped unit. Verify checks that ExecStart's program
 * exists, so a temporary copy has {@code /opt/aegis} pointed at this checkout and
 * {@code /etc/aegis/aegis.yaml} at {@code conf/aegis.yaml}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SystemdUnitIT {

    @Test
    void shippedUnitPassesSystemdAnalyzeVerify() throws IOException {
        assumeTrue(CommandLine.available("systemd-analyze"), "systemd-analyze is not installed");
        Path home = AegisProcess.home();
        String unit = Files.readString(home.resolve("systemd/aegis.service"));
        assertTrue(unit.contains("ExecStart=/opt/aegis/bin/aegis start"), "the unit runs bin/aegis start in the foreground");
        assertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), "reload is SIGHUP");

        Path dir = Files.createDirectories(AegisProcess.workDir().resolve("systemd-" + ProcessHandle.current().pid()));
        Path copy = dir.resolve("aegis.service");
        Files.writeString(copy, unit.replace("/opt/aegis", home.toString())
                .replace("/etc/aegis/aegis.yaml", home.resolve("conf/aegis.yaml").toString()));

        CommandLine.Result r = CommandLine.run(dir, 60, "systemd-analyze", "verify", copy.toString());

        assertEquals(0, r.exitCode(), r::output);
        assertFalse(r.output().contains("aegis.service:"), () -> "warnings about the unit:\n" + r.output());
        // And the check it runs before starting accepts the config it names.
        CommandLine.Result check = CommandLine.aegis("check", "-c", home.resolve("conf/aegis.yaml").toString());
        assertEquals(0, check.exitCode(), check::output);
    }
}
