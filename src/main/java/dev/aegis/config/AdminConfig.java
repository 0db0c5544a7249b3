package dev.aegis.config;

import java.util.List;

/**
 * {@code admin:}.
 *
 * @param apiAddress     the admin API, default 127.0.0.1:9090
 * @param metricsAddress the Prometheus endpoint, default 0.0.0.0:9091
 * @param apiToken       non-empty: POST and DELETE need {@code Authorization: Bearer <token>};
 *                       the environment variable AEGIS_API_TOKEN overrides it
 * @param allowedHosts   host names (no port) that a request's {@code Host} header may carry
 *                       besides the listen address, {@code localhost} and loopback; default
 *                       empty. Any other {@code Host} gets 421 (DNS rebinding, SPEC §5)
 */
public record AdminConfig(HostPort apiAddress, HostPort metricsAddress, String apiToken, List<String> allowedHosts) {

    public AdminConfig {
        allowedHosts = List.copyOf(allowedHosts);
    }

    /** No {@code allowed_hosts}. */
    public AdminConfig(HostPort apiAddress, HostPort metricsAddress, String apiToken) {
        this(apiAddress, metricsAddress, apiToken, List.of());
    }

    @Override
    public String toString() {
        return "AdminConfig[apiAddress=" + apiAddress + ", metricsAddress=" + metricsAddress
                + ", apiToken=" + (apiToken.isEmpty() ? "" : "***") + ", allowedHosts=" + allowedHosts + "]";
    }
}
