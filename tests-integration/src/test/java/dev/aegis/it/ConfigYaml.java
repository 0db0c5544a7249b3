package dev.aegis.it;

import java.util.List;

/**
 * Writes the YAML config of one test: loopback listeners on port 0 (the real ports come from
 * the log line), the backend pools, and whatever other sections the test adds as text. The admin
 * API and the metrics endpoint get port 0 too unless a test names them, so that no two Aegis
 * processes (nor the demo's fixed ports) ever collide.
 */
final class ConfigYaml {

    private boolean tcp = true;
    private boolean udp;
    private List<String> backends = List.of();
    private String backendExtra = "";
    private List<String> udpBackends;
    private String udpBackendExtra = "";
    private final StringBuilder proxy = new StringBuilder();
    private final StringBuilder top = new StringBuilder();
    private String apiAddress = "127.0.0.1:0";
    private String metricsAddress = "127.0.0.1:0";
    private String apiToken;

    /** Only a UDP listener. */
    ConfigYaml udpOnly() {
        tcp = false;
        udp = true;
        return this;
    }

    /** A UDP listener besides the TCP one. */
    ConfigYaml withUdp() {
        udp = true;
        return this;
    }

    /** {@code proxy.backends}; {@code extra} (YAML relative to the item, e.g. a health_check block) goes into each. */
    ConfigYaml backends(List<String> addresses, String extra) {
        backends = List.copyOf(addresses);
        backendExtra = extra == null ? "" : extra;
        return this;
    }

    ConfigYaml backends(List<String> addresses) {
        return backends(addresses, "");
    }

    ConfigYaml udpBackends(List<String> addresses, String extra) {
        udpBackends = List.copyOf(addresses);
        udpBackendExtra = extra == null ? "" : extra;
        return this;
    }

    ConfigYaml udpBackends(List<String> addresses) {
        return udpBackends(addresses, "");
    }

    /** More keys under {@code proxy:}, written as at the top level (indented here). */
    ConfigYaml proxy(String yaml) {
        proxy.append(indent(yaml, 2));
        return this;
    }

    /** More top-level sections ({@code logging:}, {@code shutdown:}). */
    ConfigYaml top(String yaml) {
        top.append(yaml.endsWith("\n") ? yaml : yaml + "\n");
        return this;
    }

    ConfigYaml admin(String api, String metrics) {
        apiAddress = api;
        metricsAddress = metrics;
        return this;
    }

    ConfigYaml apiToken(String token) {
        apiToken = token;
        return this;
    }

    String build() {
        StringBuilder y = new StringBuilder("proxy:\n  listen:\n");
        if (tcp) {
            y.append("    tcp: \"127.0.0.1:0\"\n");
        }
        if (udp) {
            y.append("    udp: \"127.0.0.1:0\"\n");
        }
        y.append("  backends:\n").append(items(backends, backendExtra));
        if (udpBackends != null) {
            y.append("  udp_backends:\n").append(items(udpBackends, udpBackendExtra));
        }
        y.append(proxy);
        y.append("admin:\n  api_address: \"").append(apiAddress).append("\"\n  metrics_address: \"")
                .append(metricsAddress).append("\"\n");
        if (apiToken != null) {
            y.append("  api_token: \"").append(apiToken).append("\"\n");
        }
        y.append(top);
        return y.toString();
    }

    private static String items(List<String> addresses, String extra) {
        StringBuilder y = new StringBuilder();
        for (String a : addresses) {
            y.append("    - address: \"").append(a).append("\"\n").append(indent(extra, 6));
        }
        return y.toString();
    }

    private static String indent(String yaml, int spaces) {
        if (yaml == null || yaml.isBlank()) {
            return "";
        }
        String pad = " ".repeat(spaces);
        StringBuilder out = new StringBuilder();
        for (String line : yaml.stripIndent().split("\n")) {
            if (!line.isBlank()) {
                out.append(pad).append(line).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * A health check block for backend items: HTTP when {@code path} is given, else a connect.
     * The timeout is 1 s whatever the interval: a dead backend fails at once (refused), and a
     * busy CI machine must not make a live one look dead.
     */
    static String healthCheck(String interval, String path, int healthy, int unhealthy) {
        return "health_check:\n"
                + "  interval: " + interval + "\n"
                + "  timeout: 1s\n"
                + (path == null ? "" : "  path: \"" + path + "\"\n")
                + "  healthy_threshold: " + healthy + "\n"
                + "  unhealthy_threshold: " + unhealthy + "\n";
    }
}
