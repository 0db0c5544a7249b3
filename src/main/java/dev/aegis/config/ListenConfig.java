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

    /** Every TCP address to bind, ranges expanded. */
    public List<HostPort> tcpAddresses() {
        return expand(tcp);
    }

    /** Every UDP address to bind, ranges expanded. */
    public List<HostPort> udpAddresses() {
        return expand(udp);
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
        List<HostPort> out = new ArrayList<>();
        for (ListenRange r : ranges) {
            out.addAll(r.addresses());
        }
        return out;
    }
}
