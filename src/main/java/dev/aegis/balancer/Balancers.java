package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.config.LoadBalancingConfig;
import java.net.InetAddress;
import java.util.List;

/** Builds the balancer for one backend-set generation, and hashes client addresses for it. */
public final class Balancers {

    private Balancers() {
    }

    /**
     * The balancer for {@code backends} (in config order) under {@code config}.
     *
     * <p>{@code session_affinity: true} gives a consistent hash on the client IP whatever the
     * algorithm, so every client sticks to one backend (unlike the original Aegis, where the flag
     * did nothing unless the algorithm already was {@code consistent_hash}). The ring then uses
     * the backends' weights like {@code consistent_hash} does.
     *
     * <p>{@code slow_start} reaches round robin (every backend counts as the same weight), smooth
     * weighted and least connections. Not the hash ring: a warming backend would have to hand its
     * clients to others and take them back as it warms, which breaks the stickiness that is the
     * reason to hash, and instances of a fleet (which warm at different moments) would then
     * disagree about a client's backend.
     */
    public static Balancer create(LoadBalancingConfig config, List<Backend> backends) {
        if (config.sessionAffinity()) {
            return new ConsistentHash(backends);
        }
        long slowStart = config.slowStart().toNanos();
        return switch (config.algorithm()) {
            case ROUND_ROBIN -> new RoundRobin(backends, slowStart);
            case WEIGHTED -> new SmoothWeighted(backends, slowStart);
            case LEAST_CONNECTIONS -> new LeastConnections(backends, slowStart);
            case CONSISTENT_HASH -> new ConsistentHash(backends);
        };
    }

    /**
     * The {@code clientHash} to pass to {@link Balancer#select}: FNV-1a over the address bytes,
     * then MurmurHash3's finaliser so that addresses differing in one bit land far apart. IPv4
     * and IPv6 both work (4 or 16 bytes); the port is deliberately not part of it, so all
     * connections of one client host hash alike.
     *
     * <p>Allocation: {@link InetAddress#getAddress()} returns a fresh copy of the 4 or 16 address
     * bytes; nothing else is allocated. Call it once per new connection or UDP session, not per
     * pick (retries reuse the hash).
     */
    public static int hashClient(InetAddress address) {
        byte[] bytes = address.getAddress();
        int h = 0x811c9dc5;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return fmix32(h);
    }

    /** MurmurHash3's 32-bit finaliser. */
    static int fmix32(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }
}
