package dev.aegis.config;

import java.util.ArrayList;
import java.util.List;

/**
 * One listen entry as written: {@code host:port} or a port range {@code host:first-last}, of
 * which every port is bound.
 *
 * @param host      an IP literal or hostname; IPv6 without brackets
 * @param firstPort the first port (0 = any free port, only without a range)
 * @param lastPort  the last port, equal to {@code firstPort} when there is no range
 */
public record ListenRange(String host, int firstPort, int lastPort) {

    /** Most ports one service may bind, in all of its listen entries. */
    public static final int MAX_PORTS_PER_SERVICE = 1024;

    public ListenRange {
        if (lastPort < firstPort) {
            throw new IllegalArgumentException("range " + firstPort + "-" + lastPort + " ends before it starts");
        }
    }

    public static ListenRange of(HostPort address) {
        return new ListenRange(address.host(), address.port(), address.port());
    }

    public int size() {
        return lastPort - firstPort + 1;
    }

    /** One address per port of the range. */
    public List<HostPort> addresses() {
        List<HostPort> out = new ArrayList<>(size());
        for (int port = firstPort; port <= lastPort; port++) {
            out.add(new HostPort(host, port));
        }
        return out;
    }

    /** As written in a file: {@code 0.0.0.0:53}, {@code [::]:49152-49172}. */
    @Override
    public String toString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return firstPort == lastPort ? h + ":" + firstPort : h + ":" + firstPort + "-" + lastPort;
    }
}
