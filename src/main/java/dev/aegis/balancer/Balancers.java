package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.config.LoadBalancingConfig;
import java.util.List;

/** Builds the balancer for one backend-set generation from the configured algorithm. */
public final class Balancers {

    private Balancers() {
    }

    public static Balancer create(LoadBalancingConfig config, List<Backend> backends) {
        return new RoundRobin(backends);
    }
}
