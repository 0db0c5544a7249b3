package dev.aegis.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One service (SPEC §9): an entry of {@code services:}, or the {@code proxy:} block of a
 * one-service file, which is the service named {@value #DEFAULT_NAME}.
 *
 * @param name           {@code [a-z0-9][a-z0-9_-]{0,31}}, unique in the file: the {@code service}
 *                       label of its metrics and the {@code service=} field of its log lines
 * @param listen         where clients connect (TCP, UDP or both; addresses and port ranges)
 * @param backends       the TCP pool; also the UDP pool when {@code udpBackends} is empty
 * @param udpBackends    the UDP pool; empty = UDP uses {@code backends}
 * @param loadBalancing  how a backend is chosen
 * @param traffic        rate limits, timeouts, retries and connection limits
 * @param circuitBreaker when a failing backend is taken out of rotation
 * @param udp            how UDP datagrams make sessions ({@code responses}, {@code per_packet})
 * @param proxyProtocol  the PROXY protocol header sent to the backends (SPEC §10)
 * @param tlsRoutes      TLS passthrough routes by server name (SPEC §10, TCP only); empty = no
 *                       ClientHello is read and every connection uses {@code backends}
 * @param queue          where new TCP connections wait when every eligible backend is full
 *                       (SPEC §11); {@link QueueConfig#NONE} by default
 * @param backendRemoval what a removed backend's open TCP connections get; {@link BackendRemoval#DRAIN}
 *                       by default
 * @param discovery      DNS names whose answers join {@code backends} (and the UDP pool when
 *                       {@code udpBackends} is empty) at run time (SPEC §11); empty = none
 */
public record ServiceConfig(
        String name,
        ListenConfig listen,
        List<BackendConfig> backends,
        List<BackendConfig> udpBackends,
        LoadBalancingConfig loadBalancing,
        TrafficConfig traffic,
        CircuitBreakerConfig circuitBreaker,
        UdpModeConfig udp,
        ProxyProtocolConfig proxyProtocol,
        List<TlsRouteConfig> tlsRoutes,
        QueueConfig queue,
        BackendRemoval backendRemoval,
        Optional<DiscoveryConfig> discovery) {

    /** The name of the one service of a {@code proxy:} file. */
    public static final String DEFAULT_NAME = "default";

    /** What a service name may look like: it becomes a label value and a log field. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

    public ServiceConfig {
        backends = List.copyOf(backends);
        udpBackends = List.copyOf(udpBackends);
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        tlsRoutes = List.copyOf(tlsRoutes);
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(backendRemoval, "backendRemoval");
        Objects.requireNonNull(discovery, "discovery");
    }

    /** A service without {@code discovery}. */
    public ServiceConfig(String name, ListenConfig listen, List<BackendConfig> backends,
            List<BackendConfig> udpBackends, LoadBalancingConfig loadBalancing, TrafficConfig traffic,
            CircuitBreakerConfig circuitBreaker, UdpModeConfig udp, ProxyProtocolConfig proxyProtocol,
            List<TlsRouteConfig> tlsRoutes, QueueConfig queue, BackendRemoval backendRemoval) {
        this(name, listen, backends, udpBackends, loadBalancing, traffic, circuitBreaker, udp, proxyProtocol, tlsRoutes,
                queue, backendRemoval, Optional.empty());
    }

    /** A service without a queue, whose removed backends drain. */
    public ServiceConfig(String name, ListenConfig listen, List<BackendConfig> backends,
            List<BackendConfig> udpBackends, LoadBalancingConfig loadBalancing, TrafficConfig traffic,
            CircuitBreakerConfig circuitBreaker, UdpModeConfig udp, ProxyProtocolConfig proxyProtocol,
            List<TlsRouteConfig> tlsRoutes, Optional<DiscoveryConfig> discovery) {
        this(name, listen, backends, udpBackends, loadBalancing, traffic, circuitBreaker, udp, proxyProtocol, tlsRoutes,
                QueueConfig.NONE, BackendRemoval.DRAIN, discovery);
    }

    /** A service without a queue, discovery, and whose removed backends drain. */
    public ServiceConfig(String name, ListenConfig listen, List<BackendConfig> backends,
            List<BackendConfig> udpBackends, LoadBalancingConfig loadBalancing, TrafficConfig traffic,
            CircuitBreakerConfig circuitBreaker, UdpModeConfig udp, ProxyProtocolConfig proxyProtocol,
            List<TlsRouteConfig> tlsRoutes) {
        this(name, listen, backends, udpBackends, loadBalancing, traffic, circuitBreaker, udp, proxyProtocol, tlsRoutes,
                QueueConfig.NONE, BackendRemoval.DRAIN, Optional.empty());
    }

    /** A service without {@code tls_routes}. */
    public ServiceConfig(String name, ListenConfig listen, List<BackendConfig> backends,
            List<BackendConfig> udpBackends, LoadBalancingConfig loadBalancing, TrafficConfig traffic,
            CircuitBreakerConfig circuitBreaker, UdpModeConfig udp, ProxyProtocolConfig proxyProtocol) {
        this(name, listen, backends, udpBackends, loadBalancing, traffic, circuitBreaker, udp, proxyProtocol, List.of());
    }

    /** The pool that serves UDP: {@code udp_backends} when configured, else {@code backends}. */
    public List<BackendConfig> effectiveUdpBackends() {
        return udpBackends.isEmpty() ? backends : udpBackends;
    }
}
