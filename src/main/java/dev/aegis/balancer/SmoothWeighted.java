package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.backend.Tried;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * nginx's smooth weighted round robin: weights 5, 1, 1 give {@code a a b a c a a}, the light
 * backends interleaved with the heavy one instead of one burst of five.
 *
 * <p>nginx runs the algorithm live under a lock: every pick adds each weight to a "current"
 * score, takes the highest and subtracts the total from it. That is a read-modify-write of N
 * scores, which cannot be made lock-free. But the sequence it produces is periodic: with the
 * weights divided by their gcd, one cycle is exactly {@code sum(weights)} picks, after which all
 * scores are back to zero. So the cycle is computed once here, at construction, into an
 * {@code int[]} of backend indexes, and a pick is one atomic counter step into it. A cycle longer
 * than {@link #MAX_CYCLE} (large, coprime weights) is first scaled down proportionally, each
 * weight kept at least 1, so memory stays bounded (256 KiB) and the ratios nearly exact.
 *
 * <p>When the entry at the counter is not eligible (down, draining, tried), the pick walks
 * forward in the sequence to the next eligible entry and claims every position it walked over
 * with one compare-and-set. The skipped entries thus simply drop out of the cycle, which is what
 * nginx does when it leaves a down peer out of its scoring: the other backends keep their exact
 * weight ratios and their interleaving. The walk is bounded by the cycle length because one
 * cycle contains every backend of weight above zero: having walked a full cycle, none is
 * eligible. It skips whole runs of the same backend at once, and checks after as many steps as
 * there are backends whether any backend is eligible at all, so an all-down pool costs O(N) per
 * pick, not O(cycle).
 *
 * <p>Slow start: a warming backend {@link Backend#takesTurn takes} only its warmth's share of its
 * entries; an entry it declines drops out like an ineligible one. With warmth {@code f} it thus
 * gets {@code f * w} of every cycle while the others keep theirs: exactly an effective weight of
 * {@code f * w}, without rebuilding the cycle as the weight changes. When every eligible backend
 * declines for a whole cycle, the first declined entry is taken: slow start never turns a client
 * away.
 */
final class SmoothWeighted implements Balancer {

    /** Longest cycle we precompute: 65,536 entries, 256 KiB. */
    static final int MAX_CYCLE = 1 << 16;

    /** The backends of weight above zero, in config order. */
    private final Backend[] backends;
    /** One full cycle of the smooth sequence: indexes into {@link #backends}. */
    private final int[] sequence;
    /** For each position, how many entries from it on (without wrapping) name the same backend. */
    private final int[] runLength;
    private final AtomicLong next = new AtomicLong();
    /** {@code load_balancing.slow_start} in nanoseconds; 0 = off. */
    private final long slowStartNanos;

    SmoothWeighted(List<Backend> all) {
        this(all, 0);
    }

    SmoothWeighted(List<Backend> all, long slowStartNanos) {
        this.slowStartNanos = slowStartNanos;
        List<Backend> weighted = new ArrayList<>();
        for (Backend b : all) {
            if (b.weight() > 0) {
                weighted.add(b); // weight 0 takes no new traffic: it has no place in the cycle
            }
        }
        this.backends = weighted.toArray(new Backend[0]);
        int[] weights = reducedWeights(backends);
        this.sequence = smoothCycle(weights);
        this.runLength = new int[sequence.length];
        for (int i = sequence.length - 1; i >= 0; i--) {
            boolean sameAsNext = i + 1 < sequence.length && sequence[i + 1] == sequence[i];
            runLength[i] = sameAsNext ? runLength[i + 1] + 1 : 1;
        }
    }

    /** Entries in one cycle (the sum of the reduced weights). */
    int cycleLength() {
        return sequence.length;
    }

    @Override
    public Backend select(int clientHash, Tried tried, boolean ignoreHealth) {
        int length = sequence.length;
        if (length == 0) {
            return null;
        }
        while (true) {
            long position = next.get();
            int index = (int) Long.remainderUnsigned(position, length);
            int walked = 0;
            boolean someoneEligible = false;
            Backend chosen = null;
            Backend declined = null;
            int declinedWalk = 0;
            while (walked < length) {
                Backend b = backends[sequence[index]];
                if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                    if (slowStartNanos == 0 || b.takesTurn(position + walked, slowStartNanos)) {
                        chosen = b;
                        break;
                    }
                    if (declined == null) {
                        declined = b;
                        declinedWalk = walked;
                    }
                    walked++; // warming: the next entry of its run is another turn, asked again
                    if (++index == length) {
                        index = 0;
                    }
                    continue;
                }
                int skip = runLength[index]; // the rest of this run is the same backend: same answer
                walked += skip;
                index += skip;
                if (index >= length) {
                    index -= length;
                }
                if (!someoneEligible && walked > backends.length) {
                    if (!anyEligible(tried, ignoreHealth)) {
                        return null;
                    }
                    someoneEligible = true;
                }
            }
            if (chosen == null) {
                if (declined == null) {
                    return null;
                }
                chosen = declined; // only warming backends are eligible: one of them it is
                walked = declinedWalk;
            }
            if (next.compareAndSet(position, position + walked + 1)) {
                return chosen;
            }
            // another pick moved the counter meanwhile: start again from the new position
        }
    }

    private boolean anyEligible(Tried tried, boolean ignoreHealth) {
        for (Backend b : backends) {
            if (b.isEligible(ignoreHealth) && !tried.contains(b)) {
                return true;
            }
        }
        return false;
    }

    /** The weights divided by their gcd, first scaled down if their sum exceeds {@link #MAX_CYCLE}. */
    private static int[] reducedWeights(Backend[] backends) {
        int[] weights = new int[backends.length];
        long sum = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] = backends[i].weight();
            sum += weights[i];
        }
        if (sum > MAX_CYCLE) {
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (int) Math.max(1, weights[i] * (long) MAX_CYCLE / sum);
            }
        }
        int gcd = 0;
        for (int w : weights) {
            gcd = gcd(gcd, w);
        }
        for (int i = 0; i < weights.length; i++) {
            weights[i] /= gcd;
        }
        return weights;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /**
     * Runs nginx's algorithm ({@code ngx_http_upstream_get_peer}) for one full cycle. Ties go to
     * the backend first in config order, as in nginx.
     */
    private static int[] smoothCycle(int[] weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int[] cycle = new int[total];
        long[] current = new long[weights.length];
        for (int pick = 0; pick < total; pick++) {
            int best = -1;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            cycle[pick] = best;
        }
        return cycle;
    }
}
