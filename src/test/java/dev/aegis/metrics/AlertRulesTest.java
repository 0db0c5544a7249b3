package dev.aegis.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules are valid and their {@code promtool test rules} cases pass: each alert
 * fires for the series that should page and stays silent for their neighbours (SPEC §12).
 */
class AlertRulesTest {

    static final Path RULES = Path.of("conf", "prometheus", "aegis-alerts.yml");
    static final Path RULE_TESTS = Path.of("conf", "prometheus", "aegis-alerts.test.yml");

    private record Run(int exit, String output) {
    }

    private static Run promtool(String... args) throws IOException, InterruptedException {
        String promtool = PromtoolLint.find();
        assumeTrue(promtool != null, "promtool not on PATH: rule checks skipped (CI installs it)");
        String[] command = new String[args.length + 1];
        command[0] = promtool;
        System.arraycopy(args, 0, command, 1, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
            return new Run(p.exitValue(), out);
        } finally {
            p.destroy();
        }
    }

    @Test
    void rulesAreValid() throws Exception {
        Run r = promtool("check", "rules", RULES.toString());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("SUCCESS: 7 rules found"), r.output());
    }

    @Test
    void everyAlertFiresAndStaysSilentAsItsTestSays() throws Exception {
        Run r = promtool("test", "rules", RULE_TESTS.toString());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("SUCCESS"), r.output());
    }

    @Test
    void everyAlertHasATestCase() throws Exception {
        String rules = Files.readString(RULES);
        String tests = Files.readString(RULE_TESTS);
        List<String> alerts = Pattern.compile("- alert: (\\w+)").matcher(rules).results()
                .map(m -> m.group(1)).toList();
        assertEquals(7, alerts.size(), alerts.toString());
        for (String alert : alerts) {
            assertTrue(tests.contains("alertname: " + alert), alert + " has no promtool test case");
        }
    }
}
