package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A hash ring keyed on the client IP: the same client always reaches the same backend while it
 * is eligible, and when one of N backends leaves only the clients it served (about 1/N) move.
 *
 * <p>Each backend owns {@link #POINTS_PER_100_WEIGHT} points per 100 of weight (at least one;
 * weight 0 owns none). A point's position hashes the backend id (its address as written in the
 * config) and the point number, so a backend lands on the same points in every generation, and a
 * reload that keeps it keeps its clients. The ring is two arrays sorted by position: positions
 * and owner indexes; a pick is a binary search for the first point at or after the client's
 * position, wrapping at the end.
 *
 * <p>When that point's owner is not eligible (down, draining, tried), the pick walks clockwise to
 * the next point whose owner is. That is exactly the answer the ring without the ineligible
 * backends would give, so a down backend's clients spread over the others in proportion to their
 * weights, always the same client to the same fallback, and come back when it recovers.
 *
 * <p><b>Fleets.</b> The ring is a pure function of the set of (id, weight) pairs: no insertion
 * order (backends are indexed in id order), no identity hash, no random seed, no clock. So every
 * Aegis instance with the same backends maps a client to the same backend, as long as they agree
 * on which backends are eligible (health and circuits are per instance) and write each address
 * the same way ({@code 10.0.0.1:80} and {@code app:80} are different ids). Slow start does not
 * apply here for the same reason: instances warm a backend at different moments.
 */
final class ConsistentHash implements Balancer {

    /** Virtual nodes per 100 of weight (the default weight): enough for shares within a few %. */
    static final int POINTS_PER_100_WEIGHT = 160;
    /**
     * Ring size cap (2 MiB of arrays). Only pools with hundreds of heavy backends reach it; they
     * are scaled down proportionally, which moves a few more clients on reload than 1/N.
     */
    static final int MAX_POINTS = 1 << 18;

    private final Backend[] backends;
    private final int[] positions;
    private final int[] owners;

    ConsistentHash(List<Backend> all) {
        // Indexed in id order, not config order: the owner index breaks ties between equal
        // positions, and the ring must not depend on how a config happens to list the backends.
        this.backends = all.toArray(new Backend[0]);
        Arrays.sort(backends, Comparator.comparing(Backend::id));
        long[] points = new long[backends.length];
        long total = 0;
        for (int i = 0; i < backends.length; i++) {
            int weight = backends[i].weight();
            points[i] = weight <= 0 ? 0 : Math.max(1, (weight * (long) POINTS_PER_100_WEIGHT + 50) / 100);
            total += points[i];
        }
        if (total > MAX_POINTS) {
            long scaled = 0;
            for (int i = 0; i < points.length; i++) {
                if (points[i] > 0) {
                    points[i] = Math.max(1, points[i] * MAX_POINTS / total);
                }
                scaled += points[i];
            }
            total = scaled;
        }
        // Sort (position, owner) pairs packed in a long: position in the high half, so the order
        // is by position and, for the rare equal positions, by owner.
        long[] ring = new long[(int) total];
        int n = 0;
        for (int i = 0; i < backends.length; i++) {
            long seed = fnv1a64(backends[i].id().getBytes(StandardCharsets.UTF_8));
            for (int p = 0; p < points[i]; p++) {
                int position = (int) (fmix64(seed + (p + 1) * 0x9E3779B97F4A7C15L) >>> 32);
                ring[n++] = ((long) position << 32) | i;
            }
        }
        Arrays.sort(ring);
        this.positions = new int[ring.length];
        this.owners = new int[ring.length];
        for (int k = 0; k < ring.length; k++) {
            positions[k] = (int) (ring[k] >> 32);
            owners[k] = (int) ring[k];
        }
    }

    /** Points on the ring (for tests). */
    int ringSize() {
        return positions.length;
    }

    @Override
    public Backend select(int clientHash, Tried tried, boolean ignoreHealth) {
        int size = positions.length;
        if (size == 0) {
            return null;
        }
        // Mixed again so that even a weak caller hash (a raw IPv4 address) spreads over the ring.
        int index = firstAtOrAfter(Balancers.fmix32(clientHash));
        int rejected = -1;
        int rejections = 0;
        for (int walked = 0; walked < size; walked++) {
            int owner = owners[index];
            if (owner != rejected) {
                Backend b = backends[owner];
                if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                    return b;
                }
                rejected = owner;
                // Bounds the cost of an all-down pool to O(N) instead of a walk round the ring.
                if (++rejections == backends.length + 1 && !anyEligible(tried, ignoreHealth)) {
                    return null;
                }
            }
            if (++index == size) {
                index = 0;
            }
        }
        return null;
    }

    private int firstAtOrAfter(int position) {
        int low = 0;
        int high = positions.length; // answer in [low, high]
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (positions[mid] < position) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == positions.length ? 0 : low; // past the last point: wrap to the first
    }

    private boolean anyEligible(Tried tried, boolean ignoreHealth) {
        for (Backend b : backends) {
            if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                return true;
            }
        }
        return false;
    }

    private static long fnv1a64(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** MurmurHash3's 64-bit finaliser: every input bit affects every output bit. */
    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
