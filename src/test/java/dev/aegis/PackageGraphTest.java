package dev.aegis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package graph of {@code src/main/java/dev/aegis}, read from the {@code import dev.aegis.X}
 * lines of every source file (plain text, no library): dependencies point one way (STYLE.md,
 * "Composition").
 */
class PackageGraphTest {

    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "aegis");
    /** {@code import dev.aegis.<package>.<Name>;} and {@code import static dev.aegis.<package>...}. */
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?dev\\.aegis\\.(\\w+)[.;]");
    private static final String ROOT = "dev.aegis";
    /** The proxy core: it is looked at by the layers, never looks at them. */
    private static final Set<String> CORE =
            Set.of("tcp", "udp", "backend", "balancer", "health", "traffic", "config", "accesslog", "discovery");
    private static final Set<String> LAYERS = Set.of("admin", "metrics", "cli");

    @Test
    void thePackageGraphHasNoCycle() throws IOException {
        // The root package (Main with its Daemon, Aegis, Service) takes part as "dev.aegis": admin and
        // metrics see the core through dev.aegis.control, so the root may import them.
        Map<String, Set<String>> graph = packageGraph();
        assertTrue(graph.containsKey("backend") && graph.containsKey("balancer"), "sources not found: " + graph);

        List<List<String>> cycles = cycles(graph);

        assertEquals(List.of(), cycles.stream().map(c -> String.join(" -> ", c)).toList(),
                "package cycles (each one must be broken)");
    }

    @Test
    void noCorePackageImportsTheAdminMetricsOrCliLayers() throws IOException {
        Map<String, Set<String>> graph = packageGraph();
        List<String> wrong = new ArrayList<>();
        for (String core : CORE) {
            for (String target : graph.getOrDefault(core, Set.of())) {
                if (LAYERS.contains(target)) {
                    wrong.add(core + " imports " + target);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void findsACycleWhereThereIsOne() {
        Map<String, Set<String>> graph = new TreeMap<>(Map.of(
                "a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a")));
        assertEquals(List.of(List.of("a", "b", "c", "a")), cycles(graph));
        assertFalse(cycles(Map.of("a", Set.of("b"), "b", Set.of())).iterator().hasNext());
    }

    /** Package (first name below dev.aegis, or "dev.aegis" for the root) -> the packages it imports. */
    private static Map<String, Set<String>> packageGraph() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(SOURCES)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        for (Path file : files) {
            Path relative = SOURCES.relativize(file);
            String from = relative.getNameCount() < 2 ? ROOT : relative.getName(0).toString();
            Set<String> targets = graph.computeIfAbsent(from, k -> new TreeSet<>());
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                Matcher m = IMPORT.matcher(line.strip());
                if (m.find()) {
                    // an upper-case name is a class of the root package
                    String to = Character.isUpperCase(m.group(1).charAt(0)) ? ROOT : m.group(1);
                    if (!to.equals(from)) {
                        targets.add(to);
                    }
                }
            }
        }
        return graph;
    }

    /**
     * One cycle per back edge of a depth-first walk, each written from its first package back to
     * it ({@code backend -> balancer -> backend}). Empty when the graph is acyclic.
     */
    private static List<List<String>> cycles(Map<String, Set<String>> graph) {
        List<List<String>> found = new ArrayList<>();
        Set<String> done = new LinkedHashSet<>();
        for (String start : new TreeSet<>(graph.keySet())) {
            walk(start, graph, new ArrayList<>(), done, found);
        }
        return found;
    }

    private static void walk(String node, Map<String, Set<String>> graph, List<String> path, Set<String> done,
            List<List<String>> found) {
        if (done.contains(node)) {
            return;
        }
        int onPath = path.indexOf(node);
        if (onPath >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(onPath, path.size()));
            cycle.add(node);
            found.add(cycle);
            return;
        }
        path.add(node);
        for (String next : new TreeSet<>(graph.getOrDefault(node, Set.of()))) {
            walk(next, graph, path, done, found);
        }
        path.remove(path.size() - 1);
        done.add(node);
    }
}
