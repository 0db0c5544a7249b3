package dev.aegis.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** A service's {@code listen}: TCP and UDP entries, at least one in all. */
public record ListenConfig(List<ListenRange> tcp, List<ListenRange> udp) {

    public ListenConfig {
        tcp = List.copyOf(tcp);
        udp = List.copyOf(udp);
    }

    /**
     * Every TCP address to bind, ranges expanded. An IPv4 address beside {@code [::]} on the same
     * port is left out: the JDK opens the IPv6 wildcard dual-stack, so that one socket serves
     * IPv4 clients too, and a second socket on the IPv4 address could not be bound.
     */
    public List<HostPort> tcpAddresses() {
        return expand(tcp);
    }

    /** Every UDP address to bind, ranges expanded. */
    public List<HostPort> udpAddresses() {
        return expand(udp);
    }

    /** The UDP addresses that come from a range of more than one port. */
    public Set<HostPort> udpRangeAddresses() {
        Set<HostPort> out = new java.util.HashSet<>();
        for (ListenRange r : udp) {
            if (r.size() > 1) {
                out.addAll(r.addresses());
            }
        }
        return out;
    }

    public boolean hasTcp() {
        return !tcp.isEmpty();
    }

    public boolean hasUdp() {
        return !udp.isEmpty();
    }

    /** The distinct ports the service listens on, TCP and UDP together. */
    public Set<Integer> ports() {
        Set<Integer> ports = new TreeSet<>();
        for (HostPort a : tcpAddresses()) {
            ports.add(a.port());
        }
        for (HostPort a : udpAddresses()) {
            ports.add(a.port());
        }
        return ports;
    }

    private static List<HostPort> expand(List<ListenRange> ranges) {
        Set<Integer> dualStack = new TreeSet<>();
        for (ListenRange r : ranges) {
            if (isIpv6Wildcard(r.host())) {
                for (int p = r.firstPort(); p <= r.lastPort() && p != 0; p++) {
                    dualStack.add(p);
                }
            }
        }
        List<HostPort> out = new ArrayList<>();
        for (ListenRange r : ranges) {
            for (HostPort a : r.addresses()) {
                if (!(isIpv4Literal(a.host()) && dualStack.contains(a.port()))) {
                    out.add(a);
                }
            }
        }
        return out;
    }

    /** {@code ::} in any spelling ({@code 0:0:0:0:0:0:0:0}, {@code ::0}). */
    static boolean isIpv6Wildcard(String host) {
        return host.indexOf(':') >= 0 && host.chars().allMatch(c -> c == ':' || c == '0');
    }

    static boolean isIpv4Literal(String host) {
        return !host.isEmpty() && host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    }
}
