package dev.aegis.config;

import java.util.regex.Pattern;

/**
 * Parses {@code host:port} as written in the config file and in admin API requests. IPv6 literals
 * go in brackets ({@code [::1]:80}). Parsing never touches DNS; see {@link HostResolver}.
 * Every failure is an {@link IllegalArgumentException} whose message is meant for the operator,
 * e.g. {@code port 70000 out of range (1-65535)}.
 */
public final class Addresses {

    /** One DNS label: letters, digits, hyphens and (as found in /etc/hosts and Docker) underscores. */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
    private static final Pattern DOTTED_NUMBERS = Pattern.compile("[0-9.]+");
    private static final Pattern PORT_RANGE = Pattern.compile("[0-9]+-[0-9]+");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?");

    private Addresses() {
    }

    /** A backend address: host required, port 1..65535. */
    public static HostPort parseBackend(String text) {
        return parse(text, false);
    }

    /**
     * A backend address whose port may be left out ({@code 10.0.0.9}, {@code [2001:db8::9]}):
     * port 0 then stands for the port the client reached.
     */
    public static HostPort parseBackendOrHost(String text) {
        if (text != null && !text.isBlank()) {
            if (text.startsWith("[") && text.endsWith("]")) {
                return parse(text + ":1", false).withPort(0);
            }
            if (text.indexOf(':') < 0) {
                return parse(text + ":1", false).withPort(0);
            }
        }
        return parse(text, false);
    }

    /**
     * A listen entry: {@code host:port} as {@link #parseListener} reads it, or a port range
     * {@code host:first-last} (ports 1..65535, at most {@link ListenRange#MAX_PORTS_PER_SERVICE}).
     */
    public static ListenRange parseListenRange(String text) {
        if (text != null) {
            int colon = text.lastIndexOf(':');
            int dash = text.lastIndexOf('-');
            // A dash inside brackets belongs to an IPv6 scope ([fe80::1%en-0]), not to a range.
            if (colon >= 0 && dash > colon && colon > text.lastIndexOf(']')) {
                if (!PORT_RANGE.matcher(text.substring(colon + 1)).matches()) {
                    throw new IllegalArgumentException("invalid port range \"" + text.substring(colon + 1) + "\" in \""
                            + text + "\" (expected host:first-last, e.g. 0.0.0.0:49152-49172)");
                }
                HostPort first = parse(text.substring(0, dash), true);
                HostPort last = parse(text.substring(0, colon + 1) + text.substring(dash + 1), true);
                if (first.port() == 0 || last.port() == 0) {
                    throw new IllegalArgumentException("port 0 (any free port) cannot be part of a range in \"" + text + "\"");
                }
                if (last.port() < first.port()) {
                    throw new IllegalArgumentException("range \"" + text + "\" ends before it starts");
                }
                if (last.port() - first.port() + 1 > ListenRange.MAX_PORTS_PER_SERVICE) {
                    throw new IllegalArgumentException("range \"" + text + "\" has " + (last.port() - first.port() + 1)
                            + " ports, more than " + ListenRange.MAX_PORTS_PER_SERVICE);
                }
                return new ListenRange(first.host(), first.port(), last.port());
            }
        }
        return ListenRange.of(parse(text, true));
    }

    /**
     * A listen address (proxy listener, admin API, metrics): port 0..65535, 0 meaning any free
     * port; an empty host ({@code :8080}) means every IPv4 interface, as in Go and nginx.
     */
    public static HostPort parseListener(String text) {
        return parse(text, true);
    }

    private static HostPort parse(String text, boolean listener) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty address (expected host:port)");
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing \"]\" in \"" + text + "\" (IPv6 is written [::1]:80)");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException("missing port in \"" + text + "\" (expected [ipv6]:port)");
            }
            port = rest.substring(1);
            if (!host.contains(":") || !IPV6.matcher(host).matches()) {
                throw new IllegalArgumentException("invalid IPv6 address \"" + host + "\" in \"" + text + "\"");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing port in \"" + text + "\" (expected host:port)");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException(
                        "IPv6 address in \"" + text + "\" must be in brackets, e.g. [::1]:80");
            }
            if (host.isEmpty()) {
                if (!listener) {
                    throw new IllegalArgumentException("missing host in \"" + text + "\" (expected host:port)");
                }
                host = "0.0.0.0";
            }
            checkHost(host);
        }
        return new HostPort(host, parsePort(port, listener ? 0 : 1));
    }

    private static void checkHost(String host) {
        if (DOTTED_NUMBERS.matcher(host).matches()) {
            checkIpv4(host);
            return;
        }
        if (host.length() > 253) {
            throw new IllegalArgumentException("host name longer than 253 characters");
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("invalid host \"" + host + "\"");
            }
        }
    }

    private static void checkIpv4(String host) {
        String[] parts = host.split("\\.", -1);
        boolean valid = parts.length == 4;
        for (int i = 0; valid && i < parts.length; i++) {
            valid = !parts[i].isEmpty() && parts[i].length() <= 3 && Integer.parseInt(parts[i]) <= 255;
        }
        if (!valid) {
            throw new IllegalArgumentException("invalid IPv4 address \"" + host + "\"");
        }
    }

    private static int parsePort(String port, int min) {
        String range = "(" + min + "-65535)";
        if (port.isEmpty()) {
            throw new IllegalArgumentException("missing port (expected host:port)");
        }
        if (!port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("invalid port \"" + port + "\" (expected a number " + range + ")");
        }
        // More than 5 digits cannot be a port; this also keeps parseInt from overflowing.
        int value = port.length() > 5 ? Integer.MAX_VALUE : Integer.parseInt(port);
        if (value < min || value > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range " + range);
        }
        return value;
    }
}
