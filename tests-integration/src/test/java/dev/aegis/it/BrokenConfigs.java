package dev.aegis.it;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A corpus of broken config files, each with the field path its error must name (or, for files
 * that are not YAML at all, a fragment of the file-level message).
 */
final class BrokenConfigs {

    /**
     * One broken file: what it is, its bytes, and the field path that an error line must start
     * with ({@code fileLevel == false}), or a fragment of the file-level error ({@code (file): ...}).
     */
    record Case(String name, byte[] content, String mustMention, boolean fileLevel) {
        /** Does {@code bin/aegis check}'s output name the problem as it must? */
        boolean named(String output) {
            for (String line : output.split("\n")) {
                String l = line.trim();
                if (fileLevel ? l.startsWith("(file):") && l.contains(mustMention) : l.startsWith(mustMention + ":")) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private BrokenConfigs() {
    }

    private static final String HEAD = """
            proxy:
              listen:
                tcp: "127.0.0.1:0"
              backends:
                - address: "127.0.0.1:3000"
            """;

    private static Case yaml(String name, String text, String path) {
        return new Case(name, text.getBytes(StandardCharsets.UTF_8), path, false);
    }

    private static Case file(String name, byte[] content, String fragment) {
        return new Case(name, content, fragment, true);
    }

    private static Case file(String name, String text, String fragment) {
        return file(name, text.getBytes(StandardCharsets.UTF_8), fragment);
    }

    /** HEAD plus keys of the first backend. */
    private static Case backendField(String name, String field, String mustMention) {
        return yaml(name, HEAD + "      " + field + "\n", mustMention);
    }

    /** HEAD plus more YAML under {@code proxy:} or at the top. */
    private static Case extra(String name, String yaml, String mustMention) {
        return yaml(name, HEAD + yaml, mustMention);
    }

    static List<Case> all() {
        List<Case> cases = new ArrayList<>();
        // wrong types
        cases.add(backendField("weight is a word", "weight: heavy", "proxy.backends[0].weight"));
        cases.add(backendField("weight is a fraction", "weight: 1.5", "proxy.backends[0].weight"));
        cases.add(backendField("weight is a map", "weight: {a: 1}", "proxy.backends[0].weight"));
        cases.add(yaml("proxy is a string", "proxy: \"just a string\"\n", "proxy"));
        cases.add(yaml("backend is a string", """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - "127.0.0.1:3000"
                """, "proxy.backends[0]"));
        cases.add(extra("retries is a list", "  traffic:\n    retries: [1, 2]\n", "proxy.traffic.retries"));
        // negative and huge numbers
        cases.add(backendField("negative weight", "weight: -5", "proxy.backends[0].weight"));
        cases.add(backendField("weight above 10000", "weight: 10001", "proxy.backends[0].weight"));
        cases.add(backendField("huge max_connections", "max_connections: 99999999999999999999999", "proxy.backends[0].max_connections"));
        cases.add(extra("negative retries", "  traffic:\n    retries: -1\n", "proxy.traffic.retries"));
        cases.add(extra("negative udp_max_sessions", "  traffic:\n    udp_max_sessions: -3\n", "proxy.traffic.udp_max_sessions"));
        cases.add(extra("huge rate", "  traffic:\n    rate_limit:\n      requests_per_second: 1e99\n",
                "proxy.traffic.rate_limit.requests_per_second"));
        cases.add(backendField("zero health threshold", "health_check: {healthy_threshold: 0}",
                "proxy.backends[0].health_check.healthy_threshold"));
        // bad durations
        cases.add(extra("duration with words", "  traffic:\n    timeout:\n      connect: 5 seconds\n", "proxy.traffic.timeout.connect"));
        cases.add(extra("negative duration", "  traffic:\n    timeout:\n      idle: -1s\n", "proxy.traffic.timeout.idle"));
        cases.add(extra("huge duration", "  traffic:\n    timeout:\n      read: 9999999999h\n", "proxy.traffic.timeout.read"));
        cases.add(extra("duration forever", "shutdown:\n  drain_timeout: forever\n", "shutdown.drain_timeout"));
        cases.add(backendField("zero check interval", "health_check: {interval: 0s}", "proxy.backends[0].health_check.interval"));
        // bad addresses
        cases.add(yaml("listen address without port", """
                proxy:
                  listen:
                    tcp: "not an address"
                  backends:
                    - address: "127.0.0.1:3000"
                """, "proxy.listen.tcp"));
        cases.add(yaml("backend port out of range", """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - address: "127.0.0.1:3000"
                    - address: "127.0.0.1:70000"
                """, "proxy.backends[1].address"));
        cases.add(yaml("broken IPv6 address", """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - address: "[::1:3000"
                """, "proxy.backends[0].address"));
        cases.add(extra("admin port out of range", "admin:\n  api_address: \"127.0.0.1:99999\"\n", "admin.api_address"));
        // duplicates and structure
        cases.add(yaml("duplicate backends", """
                proxy:
                  listen:
                    tcp: "127.0.0.1:0"
                  backends:
                    - address: "127.0.0.1:3000"
                    - address: "127.0.0.1:3000"
                """, "proxy.backends[1].address"));
        cases.add(extra("duplicate key", "proxy:\n  retries: 1\n", "proxy"));
        cases.add(yaml("no backends", "proxy:\n  listen:\n    tcp: \"127.0.0.1:0\"\n  backends: []\n", "proxy.backends"));
        cases.add(yaml("no listener", "proxy:\n  backends:\n    - address: \"127.0.0.1:3000\"\n", "proxy.listen"));
        cases.add(extra("unknown key", "  lisen: {}\n", "proxy.lisen"));
        cases.add(extra("unknown algorithm", "  load_balancing:\n    algorithm: fastest\n", "proxy.load_balancing.algorithm"));
        cases.add(extra("unknown log level", "logging:\n  level: loud\n", "logging.level"));
        cases.add(backendField("unknown check scheme", "health_check: {scheme: ftp}", "proxy.backends[0].health_check.scheme"));
        cases.add(backendField("java type tag", "weight: !!java.lang.Runtime {}", "proxy.backends[0].weight"));
        // not a config at all
        cases.add(file("empty file", "", "empty"));
        cases.add(file("tab indentation", "proxy:\n  listen:\n\ttcp: \"127.0.0.1:0\"\n", "line 3"));
        cases.add(file("YAML bomb", bomb(), "alias"));
        cases.add(file("deep nesting", "proxy: " + "[".repeat(50_000) + "]".repeat(50_000) + "\n", "nested"));
        cases.add(file("binary file", randomBytes(4096), "not a text file"));
        cases.add(file("invalid UTF-8", "proxy:\n  listen:\n    tcp: \"\u00ff\"\n".getBytes(StandardCharsets.ISO_8859_1),
                "UTF-8"));
        cases.add(file("a 5 MB file", "# " + "x".repeat(5 * 1024 * 1024) + "\n", "limit"));
        return cases;
    }

    /** Billion laughs: ten levels of ten aliases each. */
    private static String bomb() {
        StringBuilder y = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            y.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                y.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            y.append("]\n");
        }
        return y.toString();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        b[10] = 0; // surely binary
        return b;
    }
}
