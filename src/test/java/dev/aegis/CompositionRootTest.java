package dev.aegis;

import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * STYLE.md "Composition: one root": only the composition root ({@link Main} and its nested {@code Daemon})
 * knows the layers, and the layers see the core through {@link ProxyControl} and
 * {@link ProxyStatus}, never through its classes. Read from the import lines of the sources.
 */
class CompositionRootTest {

    private static final Path MAIN = Path.of("src/main/java/dev/aegis");
    private static final Set<String> ROOTS = Set.of("Main.java");
    private static final List<String> LAYERS = List.of("dev.aegis.admin.", "dev.aegis.metrics.", "dev.aegis.cli.");
    private static final List<String> CORE_CLASSES = List.of("dev.aegis.Aegis;", "dev.aegis.Service;");

    @Test
    void noFileOfTheRootPackageButTheCompositionRootImportsALayer() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.list(MAIN)) {
            files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !ROOTS.contains(f.getFileName().toString()))
                    .forEach(f -> imports(f).stream()
                            .filter(i -> LAYERS.stream().anyMatch(i::startsWith))
                            .forEach(i -> offenders.add(f.getFileName() + " imports " + i)));
        }
        assertEquals(List.of(), offenders);
    }

    @Test
    void adminAndMetricsSeeTheCoreOnlyThroughControlAndStatus() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String layer : List.of("admin", "metrics")) {
            try (Stream<Path> files = Files.walk(MAIN.resolve(layer))) {
                files.filter(f -> f.toString().endsWith(".java"))
                        .forEach(f -> {
                            for (String i : imports(f)) {
                                if (CORE_CLASSES.stream().anyMatch(c -> (i + ";").startsWith(c))) {
                                    offenders.add(layer + "/" + f.getFileName() + " imports " + i);
                                }
                            }
                            String text = read(f);
                            // same-named references without an import would need the package: none may appear
                            if (text.contains("dev.aegis.Aegis.") || text.contains("dev.aegis.Service.")) {
                                offenders.add(layer + "/" + f.getFileName() + " names the core's classes");
                            }
                        });
            }
        }
        assertFalse(Files.notExists(MAIN.resolve("admin")), "run from the project directory");
        assertEquals(List.of(), offenders);
    }

    /** The imported names of a source file, without {@code import}, {@code static} and the semicolon. */
    private static List<String> imports(Path file) {
        List<String> out = new ArrayList<>();
        for (String line : read(file).split("\n")) {
            String l = line.strip();
            if (l.startsWith("import ")) {
                out.add(l.substring("import ".length()).replace("static ", "").replace(";", "").strip());
            }
        }
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
