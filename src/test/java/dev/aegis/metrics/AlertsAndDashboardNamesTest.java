package dev.aegis.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric that an alert rule or a dashboard query names exists in a real scrape of a running
 * Aegis, with every label its matchers, {@code by}/{@code on} clauses and alert annotations use
 * (SPEC §12): the original Aegis shipped four alerts that could never fire because they named
 * metrics that did not exist.
 */
class AlertsAndDashboardNamesTest {

    static final Path DASHBOARD = Path.of("conf", "grafana", "aegis.json");

    /** Labels Prometheus adds to every series of a target, not in the exposition. */
    private static final Set<String> TARGET_LABELS = Set.of("instance", "job");
    /** Series Prometheus writes itself for every target. */
    private static final Set<String> SYNTHETIC = Set.of("up");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+\\S+$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern ANNOTATION_LABEL = Pattern.compile("\\$labels\\.([a-zA-Z_][a-zA-Z0-9_]*)");

    @TempDir
    static Path dir;
    private static LiveAegis live;
    /** metric name -> label name -> values seen, from the scrape */
    private static Map<String, Map<String, Set<String>>> scraped;

    @BeforeAll
    static void scrapeARunningAegis() throws Exception {
        live = new LiveAegis(dir);
        live.driveEverything();
        // the histogram's series exist once a backend was connected; wait for that in the scrape
        await().atMost(Duration.ofSeconds(20)).until(() -> live.scrape().contains("proxy_backend_connect_duration_seconds_bucket{"));
        scraped = index(live.scrape());
    }

    @AfterAll
    static void stop() throws Exception {
        if (live != null) {
            live.close();
        }
    }

    static Map<String, Map<String, Set<String>>> index(String exposition) {
        Map<String, Map<String, Set<String>>> out = new HashMap<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "unexpected exposition line: " + line);
            Map<String, Set<String>> labels = out.computeIfAbsent(m.group(1), n -> new HashMap<>());
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.computeIfAbsent(l.group(1), n -> new TreeSet<>()).add(l.group(2));
                }
            }
        }
        return out;
    }

    /** What is wrong with one expression against the scrape; empty when everything exists. */
    static List<String> problems(String where, PromqlNames.Expression e, Map<String, Map<String, Set<String>>> scrape) {
        List<String> problems = new ArrayList<>();
        for (PromqlNames.Selector s : e.selectors()) {
            Map<String, Set<String>> labels = SYNTHETIC.contains(s.metric()) ? Map.of() : scrape.get(s.metric());
            if (labels == null) {
                problems.add(where + ": no metric " + s.metric() + " in the scrape");
                continue;
            }
            for (String label : s.labels()) {
                if (!TARGET_LABELS.contains(label) && !labels.containsKey(label)) {
                    problems.add(where + ": " + s.metric() + " has no label " + label + " (it has " + labels.keySet() + ")");
                }
            }
            s.equalities().forEach((label, value) -> {
                if (!TARGET_LABELS.contains(label) && labels.containsKey(label) && !value.contains("$")
                        && !labels.get(label).contains(value)) {
                    problems.add(where + ": " + s.metric() + "{" + label + "} is never \"" + value + "\" (it is " + labels.get(label) + ")");
                }
            });
            for (String label : e.grouping()) {
                if (!TARGET_LABELS.contains(label) && !labels.containsKey(label)) {
                    problems.add(where + ": groups by " + label + ", which " + s.metric() + " does not have");
                }
            }
        }
        return problems;
    }

    /** The labels an alert's series carry: the first {@code by} list, else the labels of its metrics. */
    static Set<String> outputLabels(PromqlNames.Expression e, Map<String, Map<String, Set<String>>> scrape) {
        Set<String> out = new LinkedHashSet<>(TARGET_LABELS);
        if (!e.firstBy().isEmpty()) {
            out.addAll(e.firstBy());
        } else {
            e.selectors().forEach(s -> out.addAll(scrape.getOrDefault(s.metric(), Map.of()).keySet()));
        }
        return out;
    }

    /** Alert name -> expression, and the annotation labels of each, from the rule file. */
    static Map<String, JsonNode> alertRules() throws Exception {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(AlertRulesTest.RULES.toFile());
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode group : root.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                out.put(rule.has("alert") ? rule.get("alert").asText() : rule.get("record").asText(), rule);
            }
        }
        return out;
    }

    /** Panel title and query -> expression, every target of every panel (rows' nested panels too) and variable. */
    static Map<String, String> dashboardQueries() throws Exception {
        JsonNode root = new ObjectMapper().readTree(DASHBOARD.toFile());
        Map<String, String> out = new LinkedHashMap<>();
        List<JsonNode> panels = new ArrayList<>();
        root.get("panels").forEach(panels::add);
        for (int i = 0; i < panels.size(); i++) {
            JsonNode p = panels.get(i);
            if (p.has("panels")) {
                p.get("panels").forEach(panels::add);
            }
            if (p.has("targets")) {
                for (JsonNode t : p.get("targets")) {
                    out.put("panel \"" + p.get("title").asText() + "\" " + t.get("refId").asText(), t.get("expr").asText());
                }
            }
        }
        for (JsonNode v : root.get("templating").get("list")) {
            if (v.get("type").asText().equals("query")) {
                out.put("variable " + v.get("name").asText(), v.get("definition").asText());
            }
        }
        return out;
    }

    static PromqlNames.Expression parseDashboard(String query) {
        PromqlNames.Expression e = PromqlNames.labelValues(query);
        return e != null ? e : PromqlNames.parse(query);
    }

    @Test
    void everyAlertNamesOnlyMetricsAndLabelsOfARealScrape() throws Exception {
        List<String> problems = new ArrayList<>();
        Set<String> named = new TreeSet<>();
        for (Map.Entry<String, JsonNode> rule : alertRules().entrySet()) {
            PromqlNames.Expression e = PromqlNames.parse(rule.getValue().get("expr").asText());
            assertTrue(!e.selectors().isEmpty(), rule.getKey() + " names no metric");
            named.addAll(e.metrics());
            problems.addAll(problems("alert " + rule.getKey(), e, scraped));
            Set<String> available = outputLabels(e, scraped);
            JsonNode annotations = rule.getValue().get("annotations");
            assertNotNull(annotations, rule.getKey() + " has no annotations");
            for (String key : List.of("summary", "description")) {
                assertTrue(annotations.has(key), rule.getKey() + " has no " + key);
                Matcher m = ANNOTATION_LABEL.matcher(annotations.get(key).asText());
                while (m.find()) {
                    if (!available.contains(m.group(1))) {
                        problems.add("alert " + rule.getKey() + ": its " + key + " uses $labels." + m.group(1)
                                + ", which its series do not carry (" + available + ")");
                    }
                }
            }
            assertTrue(rule.getValue().at("/labels/severity").isTextual(), rule.getKey() + " has no severity");
        }
        assertEquals(List.of(), problems);
        assertTrue(named.size() >= 6, "the rules name " + named);
    }

    @Test
    void everyDashboardQueryNamesOnlyMetricsAndLabelsOfARealScrape() throws Exception {
        List<String> problems = new ArrayList<>();
        Set<String> named = new TreeSet<>();
        Map<String, String> queries = dashboardQueries();
        for (Map.Entry<String, String> q : queries.entrySet()) {
            PromqlNames.Expression e = parseDashboard(q.getValue());
            assertTrue(!e.selectors().isEmpty(), q.getKey() + " names no metric: " + q.getValue());
            named.addAll(e.metrics());
            problems.addAll(problems(q.getKey(), e, scraped));
        }
        assertEquals(List.of(), problems);
        // the dashboard covers what SPEC §12 lists: a name from each area
        for (String area : List.of("proxy_active_connections", "proxy_total_connections_total", "proxy_bytes_sent_total",
                "proxy_backend_healthy", "proxy_backend_circuit_state", "proxy_backend_connect_duration_seconds_bucket",
                "proxy_rejected_connections_total", "proxy_udp_packets_total", "proxy_udp_dropped_total",
                "proxy_udp_active_sessions", "proxy_config_reloads_total", "jvm_memory_used_bytes",
                "jvm_gc_collection_seconds_total", "jvm_threads_current", "process_resident_memory_bytes")) {
            assertTrue(named.contains(area), "no dashboard query uses " + area);
        }
    }

    /**
     * The scrape these checks run against, with per-backend histograms, TCP, UDP, a rejection
     * and reloads: promtool finds nothing but the original names' own lint lines (SPEC §6).
     */
    @Test
    void promtoolFindsNothingButTheOriginalNamesOwnLints() throws Exception {
        String promtool = PromtoolLint.find();
        assumeTrue(promtool != null, "promtool not on PATH: lint check skipped (CI installs it)");
        List<String> problems = PromtoolLint.check(promtool, live.scrape());
        assertEquals(List.of(), problems.stream().filter(p -> !PromtoolLint.expected(p)).toList(),
                "all promtool output: " + problems);
    }

    @Test
    void theCheckFindsWhatIsMissing() {
        // a misspelled metric, an unknown label, a value never exported, groupings the metric lacks
        List<String> found = problems("probe", PromqlNames.parse(
                "sum by (service, nosuch_label) (rate(proxy_backend_request_total[5m])) / on (service) "
                        + "sum by (service) (proxy_config_reloads_total{result=\"maybe\", tenant=\"x\"})"), scraped);
        List<String> expected = List.of(
                "probe: no metric proxy_backend_request_total in the scrape",
                "probe: proxy_config_reloads_total has no label tenant (it has [result])",
                "probe: proxy_config_reloads_total{result} is never \"maybe\" (it is [failed, ok])",
                "probe: groups by service, which proxy_config_reloads_total does not have",
                "probe: groups by nosuch_label, which proxy_config_reloads_total does not have");
        assertEquals(new TreeSet<>(expected), new TreeSet<>(found));
    }

    @Test
    void theParserFindsNamesLabelsAndGrouping() {
        PromqlNames.Expression e = PromqlNames.parse("histogram_quantile(0.99, sum by (service, le) "
                + "(rate(proxy_backend_connect_duration_seconds_bucket{service=~\"$service\", backend=~\"$backend\"}[$__rate_interval])))"
                + " > bool 1e-3 and on (instance) up{job=\"aegis\"} == 0");
        assertEquals(Set.of("proxy_backend_connect_duration_seconds_bucket", "up"), e.metrics());
        assertEquals(Set.of("service", "le", "instance"), e.grouping());
        assertEquals(List.of("service", "le"), e.firstBy());
        assertEquals(Set.of("service", "backend"), e.selectors().get(0).labels());
        assertEquals(Map.of("job", "aegis"), e.selectors().get(1).equalities());
        PromqlNames.Expression v = PromqlNames.labelValues("label_values(proxy_backend_healthy{service=~\"$service\"}, backend)");
        assertEquals(Set.of("proxy_backend_healthy"), v.metrics());
        assertEquals(Set.of("backend"), v.grouping());
    }
}
