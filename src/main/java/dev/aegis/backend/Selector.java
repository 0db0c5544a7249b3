package dev.aegis.backend;

import dev.aegis.config.LoadBalancingConfig;
import java.util.List;

/**
 * What a {@link BackendSet} needs of a balancing algorithm: one pick. The algorithms live in
 * {@code dev.aegis.balancer} and implement this interface; that package depends on this one and
 * not the other way round (PackageGraphTest keeps it so). A pool is handed a {@link Factory}
 * ({@code Balancers::create}) when it is built and makes one selector per generation with it.
 */
public interface Selector {

    /**
     * Picks a backend that is not in {@code tried} and is {@link Backend#isAvailable() available}
     * or, when {@code ignoreHealth} (panic mode), {@link Backend#isUsableIgnoringHealth() usable
     * whatever its health}. Lock-free and allocation-free: called for every new connection.
     *
     * @param clientHash a hash of the client IP (used by consistent hashing, ignored by the others)
     * @param tried      backends this connection already tried ({@link Tried#NONE} on a first pick)
     * @return the backend, or {@code null} when none is eligible
     */
    Backend select(int clientHash, Tried tried, boolean ignoreHealth);

    /** Builds the selector over exactly {@code backends} (in config order) under {@code config}. */
    @FunctionalInterface
    interface Factory {
        Selector create(LoadBalancingConfig config, List<Backend> backends);
    }
}
