package dev.aegis.admin;

import dev.aegis.control.ProxyStatus;
import java.util.Optional;

/**
 * Which service a request means (SPEC §9): the one named by {@code ?service=} or the body's
 * {@code service}; with one service it may be left out; with several, a request that must act
 * on one and names none gets 400 listing the services.
 */
final class ServiceChoice {

    private ServiceChoice() {
    }

    /** @throws ApiException 404 for an unknown name, 400 when several services and no name */
    static ProxyStatus.ServiceStatus pick(ProxyStatus status, Optional<String> name) {
        if (name.isPresent()) {
            return status.service(name.get()).orElseThrow(() -> new ApiException(404,
                    "no service \"" + name.get() + "\" (services: " + String.join(", ", status.serviceNames()) + ")"));
        }
        if (status.services().size() == 1) {
            return status.services().get(0);
        }
        throw new ApiException(400, "several services run here: name one with service (services: "
                + String.join(", ", status.serviceNames()) + ")");
    }

    /** The named service, or none (meaning every service) when no name is given. */
    static Optional<ProxyStatus.ServiceStatus> pickOptional(ProxyStatus status, Optional<String> name) {
        return name.isEmpty() ? Optional.empty() : Optional.of(pick(status, name));
    }
}
