package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;

/**
 * Chooses a backend for a new connection or UDP session. One instance is built per backend-set
 * generation (its backend list never changes); a reload builds a new one.
 *
 * <p>Implementations are lock-free and allocate nothing per pick: they are called for every new
 * connection from many virtual threads at once.
 */
public interface Balancer {

    /**
     * Picks an {@link Backend#isAvailable() available} backend that is not in {@code tried}.
     *
     * @param clientHash a hash of the client IP (used by consistent hashing, ignored by the others)
     * @param tried      backends this connection already tried
     * @return the backend, or {@code null} when none is eligible
     */
    Backend select(int clientHash, Tried tried);
}
