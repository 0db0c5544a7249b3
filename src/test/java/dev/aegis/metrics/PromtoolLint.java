package dev.aegis.metrics;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** Runs {@code promtool check metrics} on a scrape. */
final class PromtoolLint {

    /**
     * The lint lines that the original metric names carry by themselves (SPEC §6), in the wording
     * of promtool 2.x ("abbreviated units") and of later releases ("base unit").
     */
    private static final Pattern EXPECTED = Pattern.compile("proxy_latency_(avg|p99)_ms (metric names should not "
            + "contain abbreviated units|use base unit \"seconds\" instead of \"milliseconds\")");

    private PromtoolLint() {
    }

    /** @return the promtool executable on PATH, or null */
    static String find() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, "promtool");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    /** @return every line promtool printed (empty when it found nothing) */
    static List<String> check(String promtool, String exposition) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(promtool, "check", "metrics").redirectErrorStream(true).start();
        try {
            try (OutputStream in = p.getOutputStream()) {
                in.write(exposition.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("promtool did not finish");
            }
            return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        } finally {
            p.destroy();
        }
    }

    static boolean expected(String line) {
        return EXPECTED.matcher(line).matches();
    }
}
