package dev.aegis.config;

/**
 * {@code admin:}.
 *
 * @param apiAddress     the admin API, default 127.0.0.1:9090
 * @param metricsAddress the Prometheus endpoint, default 0.0.0.0:9091
 * @param apiToken       non-empty: POST and DELETE need {@code Authorization: Bearer <token>};
 *                       the environment variable AEGIS_API_TOKEN overrides it
 */
public record AdminConfig(HostPort apiAddress, HostPort metricsAddress, String apiToken) {

    @Override
    public String toString() {
        return "AdminConfig[apiAddress=" + apiAddress + ", metricsAddress=" + metricsAddress
                + ", apiToken=" + (apiToken.isEmpty() ? "" : "***") + "]";
    }
}
