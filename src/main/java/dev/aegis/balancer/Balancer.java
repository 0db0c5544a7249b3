package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Selector;
import dev.aegis.backend.Tried;

/**
 * Chooses a backend for a new connection or UDP session. One instance is built per backend-set
 * generation (its backend list never changes); a reload builds a new one with
 * {@link Balancers#create}.
 *
 * <p>Every implementation is lock-free and allocates nothing per pick: they are called for every
 * new connection from many virtual threads at once. Every implementation skips backends that are
 * not {@link Backend#isAvailable() available} (unhealthy, draining, weight 0, circuit open, at
 * their connection limit) or already in {@code tried}, and returns {@code null} when none is left;
 * in panic mode ({@code ignoreHealth}) only the health verdict is set aside.
 *
 * <p>This package depends on {@code dev.aegis.backend}, never the other way round: a
 * {@link dev.aegis.backend.BackendSet} sees its balancer only as a {@link Selector}.
 */
public sealed interface Balancer extends Selector permits RoundRobin, SmoothWeighted, LeastConnections, ConsistentHash {

    /**
     * Picks an {@link Backend#isAvailable() available} backend that is not in {@code tried}.
     *
     * @param clientHash a hash of the client IP, see {@link Balancers#hashClient} (used by
     *                   consistent hashing, ignored by the others)
     * @param tried      backends this connection already tried ({@link Tried#NONE} on a first pick)
     * @return the backend, or {@code null} when none is eligible
     */
    default Backend select(int clientHash, Tried tried) {
        return select(clientHash, tried, false);
    }
}
