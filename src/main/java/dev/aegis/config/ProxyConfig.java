package dev.aegis.config;

import java.util.List;

/**
 * The {@code proxy:} block: one service, that is listeners, backend pools and their policies.
 *
 * @param listen         where clients connect (TCP, UDP or both)
 * @param backends       the TCP pool; also the UDP pool when {@code udpBackends} is empty
 * @param udpBackends    the UDP pool; empty = UDP uses {@code backends}
 * @param loadBalancing  how a backend is chosen
 * @param traffic        rate limits, timeouts, retries and connection limits
 * @param circuitBreaker when a failing backend is taken out of rotation
 */
public record ProxyConfig(
        ListenConfig listen,
        List<BackendConfig> backends,
        List<BackendConfig> udpBackends,
        LoadBalancingConfig loadBalancing,
        TrafficConfig traffic,
        CircuitBreakerConfig circuitBreaker) {

    public ProxyConfig {
        backends = List.copyOf(backends);
        udpBackends = List.copyOf(udpBackends);
    }

    /** The pool that serves UDP: {@code udp_backends} when configured, else {@code backends}. */
    public List<BackendConfig> effectiveUdpBackends() {
        return udpBackends.isEmpty() ? backends : udpBackends;
    }
}
