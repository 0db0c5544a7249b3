package dev.aegis.backend;

import dev.aegis.balancer.Balancer;
import java.util.List;

/**
 * One generation of a pool: the backends in config order and the balancer built over exactly
 * those backends. Immutable; a reload or a runtime add/remove builds the next generation.
 */
public record BackendSet(List<Backend> backends, Balancer balancer) {

    public BackendSet {
        backends = List.copyOf(backends);
    }

    /** Picks an available backend not yet tried, or null. */
    public Backend select(int clientHash, Tried tried) {
        return balancer.select(clientHash, tried);
    }

    public Backend find(String id) {
        for (Backend b : backends) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        return null;
    }
}
