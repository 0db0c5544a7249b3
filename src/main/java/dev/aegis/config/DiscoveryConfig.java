package dev.aegis.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code discovery:} of a service (SPEC §11): DNS names whose answers become backends of the
 * service's {@code backends} pool (and of its UDP pool when it has no {@code udp_backends}).
 *
 * @param names       the names to resolve, in file order: one starting with {@code _} is an SRV
 *                    name (each target, port and weight a backend), any other an A/AAAA name (one
 *                    backend per address, on {@code port})
 * @param refresh     time between two resolutions of every name, default 10s
 * @param port        the port of the backends of A/AAAA names; 0 = none given (a service with only
 *                    SRV names, or one that listens on several ports: the port the client reached)
 * @param resolvers   DNS servers asked directly ({@code host:port}, port 53 when left out); empty =
 *                    the system's resolver ({@code /etc/resolv.conf}, {@code /etc/hosts})
 * @param healthCheck the active check of every discovered backend; empty = assumed healthy
 * @param weight      the weight of a backend of an A/AAAA name, 0..10000, default 100 (an SRV
 *                    record gives its own)
 */
public record DiscoveryConfig(
        List<String> names,
        Duration refresh,
        int port,
        List<HostPort> resolvers,
        Optional<HealthCheckConfig> healthCheck,
        int weight) {

    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(10);
    /** The port of a resolver written without one. */
    public static final int DNS_PORT = 53;

    public DiscoveryConfig {
        names = List.copyOf(names);
        resolvers = List.copyOf(resolvers);
    }

    /** Whether {@code name} is looked up as SRV (it starts with {@code _}, as {@code _pg._tcp.db}). */
    public static boolean isSrv(String name) {
        return name.startsWith("_");
    }
}
