package dev.aegis.config;

import java.util.List;
import java.util.Optional;

/**
 * One parsed and validated configuration file: an immutable snapshot. A reload builds a new one
 * and swaps it in as a whole; nothing in it ever changes.
 *
 * @param services the services in file order; a {@code proxy:} file has one, named {@code default}
 */
public record AegisConfig(List<ServiceConfig> services, AdminConfig admin, LoggingConfig logging, ShutdownConfig shutdown) {

    public AegisConfig {
        services = List.copyOf(services);
    }

    /** A one-service config (a {@code proxy:} file). */
    public AegisConfig(ServiceConfig service, AdminConfig admin, LoggingConfig logging, ShutdownConfig shutdown) {
        this(List.of(service), admin, logging, shutdown);
    }

    public Optional<ServiceConfig> service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The service names in file order. */
    public List<String> serviceNames() {
        return services.stream().map(ServiceConfig::name).toList();
    }

    /** Whether this is the file shape of SPEC §3: one service, from a {@code proxy:} block. */
    public boolean isSingleProxy() {
        return services.size() == 1 && services.get(0).name().equals(ServiceConfig.DEFAULT_NAME);
    }
}
