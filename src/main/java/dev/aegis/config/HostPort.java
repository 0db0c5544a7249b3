package dev.aegis.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * A {@code host:port} pair as written in the config file. The host is kept as text so that
 * hostnames are resolved when a config generation is built (at start and at every reload),
 * not when the file is parsed.
 *
 * @param host a hostname, an IPv4 literal or an IPv6 literal without brackets
 * @param port 1..65535 (0 only for listeners, meaning "any free port")
 */
public record HostPort(String host, int port) {

    public HostPort withPort(int newPort) {
        return new HostPort(host, newPort);
    }

    /** Resolves the host now; the result is unresolved if the name cannot be looked up. */
    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    /**
     * A socket address as an operator writes it and pastes it back: {@code 10.0.0.1:5555},
     * {@code [::1]:5555}, {@code -} for none. The one routine that prints an
     * {@link InetSocketAddress} (access log, log lines, admin API), so TCP and UDP agree.
     * An unresolved address keeps its hostname.
     */
    public static String format(InetSocketAddress address) {
        if (address == null) {
            return "-";
        }
        return of(address).toString();
    }

    /** The pair of a socket address: its IP literal, or its hostname when unresolved. */
    public static HostPort of(InetSocketAddress address) {
        return new HostPort(address.getAddress() != null ? literal(address.getAddress())
                : address.getHostString(), address.getPort());
    }

    /**
     * An IP address in its usual short form: IPv4 dotted, IPv6 as RFC 5952 writes it ({@code ::1},
     * {@code 2001:db8::7}: lower case, no leading zeros, the longest run of zero groups as
     * {@code ::}) rather than Java's {@code 0:0:0:0:0:0:0:1}, with its {@code %scope} if any.
     */
    static String literal(InetAddress address) {
        if (!(address instanceof Inet6Address v6)) {
            return address.getHostAddress();
        }
        byte[] b = v6.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int zerosAt = -1;
        int zeros = 1; // RFC 5952 4.2.2: a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > zeros) {
                zerosAt = i;
                zeros = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == zerosAt) {
                out.append("::");
                i += zeros - 1;
                continue;
            }
            if (i > 0 && i != zerosAt + zeros) {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        String full = v6.getHostAddress();
        int scope = full.indexOf('%');
        return scope < 0 ? out.toString() : out.append(full, scope, full.length()).toString();
    }

    /** The address as an operator writes it: {@code host:port}, IPv6 in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
