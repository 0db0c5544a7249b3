package dev.aegis.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names and label names a PromQL expression (or a Grafana one, with {@code $variables})
 * refers to, found pragmatically rather than by a full parser: range brackets and grouping clauses
 * are cut out first, then selectors ({@code name{matchers}}), then the bare identifiers that are
 * neither a function (followed by {@code (}) nor a keyword.
 */
final class PromqlNames {

    /** A selector: the metric, the label names its matchers use, and the values of its {@code =} matchers. */
    record Selector(String metric, Set<String> labels, Map<String, String> equalities) {
    }

    /** @param grouping the labels of every {@code by}, {@code without}, {@code on}, {@code ignoring}, {@code group_*} */
    record Expression(List<Selector> selectors, Set<String> grouping, List<String> firstBy) {

        Set<String> metrics() {
            Set<String> out = new LinkedHashSet<>();
            selectors.forEach(s -> out.add(s.metric()));
            return out;
        }
    }

    private static final Pattern RANGE = Pattern.compile("\\[[^\\]]*\\]");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)?\\s*\\{([^}]*)\\}");
    private static final Pattern MATCHER = Pattern.compile(
            "([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\\b(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan", "Inf", "NaN");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((.*),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)\\s*$");

    private PromqlNames() {
    }

    static Expression parse(String expr) {
        String s = RANGE.matcher(expr).replaceAll(" ");
        Set<String> grouping = new LinkedHashSet<>();
        List<String> firstBy = null;
        Matcher g = GROUPING.matcher(s);
        while (g.find()) {
            List<String> labels = new ArrayList<>();
            for (String label : g.group(2).split(",")) {
                if (!label.isBlank()) {
                    labels.add(label.strip());
                }
            }
            grouping.addAll(labels);
            if (firstBy == null && g.group(1).equals("by")) {
                firstBy = labels;
            }
        }
        s = g.replaceAll(" ");
        List<Selector> selectors = new ArrayList<>();
        Matcher m = SELECTOR.matcher(s);
        StringBuilder rest = new StringBuilder();
        while (m.find()) {
            if (m.group(1) == null || KEYWORDS.contains(m.group(1))) {
                throw new IllegalArgumentException("a selector without a metric name in: " + expr);
            }
            Set<String> labels = new LinkedHashSet<>();
            Map<String, String> equalities = new LinkedHashMap<>();
            Matcher lm = MATCHER.matcher(m.group(2));
            while (lm.find()) {
                labels.add(lm.group(1));
                if (lm.group(2).equals("=")) {
                    equalities.put(lm.group(1), lm.group(3));
                }
            }
            selectors.add(new Selector(m.group(1), labels, equalities));
            m.appendReplacement(rest, " ");
        }
        m.appendTail(rest);
        s = STRING.matcher(rest).replaceAll(" ");
        Matcher id = IDENTIFIER.matcher(s);
        while (id.find()) {
            if (!KEYWORDS.contains(id.group(1))) {
                selectors.add(new Selector(id.group(1), Set.of(), Map.of()));
            }
        }
        return new Expression(selectors, grouping, firstBy == null ? List.of() : firstBy);
    }

    /**
     * A Grafana {@code label_values(selector, label)} query as an expression whose grouping is
     * the label, or null for another kind of query.
     */
    static Expression labelValues(String query) {
        Matcher m = LABEL_VALUES.matcher(query);
        if (!m.matches()) {
            return null;
        }
        Expression inner = parse(m.group(1));
        return new Expression(inner.selectors(), Set.of(m.group(2)), List.of(m.group(2)));
    }
}
