package dev.aegis.metrics;

import java.util.HashMap;
import java.util.Map;

/**
 * One scrape in the Prometheus text format, as a map from series (name plus labels exactly as
 * exposed, e.g. {@code proxy_udp_packets_total{direction="to_client"}}) to value.
 */
record Scrape(String text, Map<String, Double> series) {

    static Scrape parse(String text) {
        Map<String, Double> series = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return new Scrape(text, series);
    }

    /** The value of a series; 0 when absent (a counter that never moved may be absent). */
    double value(String series) {
        return this.series.getOrDefault(series, 0.0);
    }

    /**
     * The sum over every series of {@code name} whose labels include each of {@code labels}
     * (written as exposed, e.g. {@code service="default"}): what {@code sum(...)} would give.
     */
    double sum(String name, String... labels) {
        double total = 0;
        for (Map.Entry<String, Double> e : series.entrySet()) {
            String key = e.getKey();
            int brace = key.indexOf('{');
            if (!(brace < 0 ? key : key.substring(0, brace)).equals(name)) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= key.contains("{" + label + ",") || key.contains("," + label + ",")
                        || key.contains("," + label + "}") || key.contains("{" + label + "}");
            }
            if (all) {
                total += e.getValue();
            }
        }
        return total;
    }

    boolean has(String series) {
        return this.series.containsKey(series);
    }
}
