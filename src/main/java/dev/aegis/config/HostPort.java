package dev.aegis.config;

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

    /** Resolves the host now; the result is unresolved if the name cannot be looked up. */
    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    /** The address as an operator writes it: {@code host:port}, IPv6 in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
