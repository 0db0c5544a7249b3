package dev.aegis.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short command (bin/aegis check, systemd-analyze, curl) to completion, output captured. */
final class CommandLine {

    /** Exit code and the combined stdout and stderr. */
    record Result(int exitCode, String output) {
    }

    private CommandLine() {
    }

    static Result run(Path directory, long timeoutSeconds, String... command) {
        try {
            Path out = AegisProcess.workFile("cmd", "out");
            Process p = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code bin/aegis ARGS...} from the checkout. */
    static Result aegis(String... args) {
        List<String> command = new ArrayList<>();
        command.add(AegisProcess.script().toString());
        command.addAll(List.of(args));
        return run(AegisProcess.home(), 120, command.toArray(String[]::new));
    }

    /** Is {@code program} on the PATH? */
    static boolean available(String program) {
        return run(Path.of("/"), 10, "sh", "-c", "command -v " + program).exitCode() == 0;
    }
}
