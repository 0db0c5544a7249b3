package dev.aegis.admin;

import dev.aegis.config.ServiceConfig;
import dev.aegis.control.ProxyStatus;
import java.util.Optional;

/**
 * Which service a request means (SPEC §9): the one named by {@code ?service=} or the body's
 * {@code service}; with one service it may be left out; with several, a request that must act
 * on one and names none gets 400 listing the services. A name given but empty ({@code ?service=})
 * or not spelled like a service name is a 400 too, never "every service": a script whose
 * variable came out empty must not drain the whole proxy.
 */
final class ServiceChoice {

    private ServiceChoice() {
    }

    /** @throws ApiException 400 for a malformed name or several services and no name, 404 for an unknown name */
    static ProxyStatus.ServiceStatus pick(ProxyStatus status, Optional<String> name) {
        if (name.isPresent()) {
            String n = name.get();
            if (!ServiceConfig.NAME.matcher(n).matches()) {
                // not echoed: it may be anything, of any length
                throw new ApiException(400, (n.isEmpty() ? "service: empty" : "service: not a service name")
                        + " (expected " + ServiceConfig.NAME.pattern() + "; services: " + names(status) + ")");
            }
            return status.service(n).orElseThrow(() -> new ApiException(404,
                    "no service \"" + n + "\" (services: " + names(status) + ")"));
        }
        if (status.services().size() == 1) {
            return status.services().get(0);
        }
        throw new ApiException(400, "several services run here: name one with service (services: "
                + names(status) + ")");
    }

    /** The named service, or none (meaning every service) when no name is given. */
    static Optional<ProxyStatus.ServiceStatus> pickOptional(ProxyStatus status, Optional<String> name) {
        return name.isEmpty() ? Optional.empty() : Optional.of(pick(status, name));
    }

    private static String names(ProxyStatus status) {
        return String.join(", ", status.serviceNames());
    }
}
