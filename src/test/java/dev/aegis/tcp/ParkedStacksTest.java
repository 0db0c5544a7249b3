package dev.aegis.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a wave of parked connections is worth a collection, on a test clock. */
class ParkedStacksTest {

    private long now = 1_000_000_000L;
    private int collections;
    private final ParkedStacks stacks = new ParkedStacks(() -> now, () -> collections++);

    private void park(long channels) {
        for (long i = 0; i < channels; i++) {
            stacks.parked();
        }
    }

    private void advanceMillis(long ms) {
        now += TimeUnit.MILLISECONDS.toNanos(ms);
    }

    @Test
    void aWaveIsCollectedOnceItHasBeenQuiet() {
        park(ParkedStacks.MIN_CHANNELS);
        assertTrue(stacks.waiting());
        assertFalse(stacks.check(), "still parking: the wave may not be over");
        advanceMillis(100);
        park(10);
        advanceMillis(TimeUnit.NANOSECONDS.toMillis(ParkedStacks.QUIET_NANOS) - 1);
        assertFalse(stacks.check(), "a park came in less than the quiet period ago");
        advanceMillis(1);
        assertTrue(stacks.check());
        assertEquals(1, collections);
        assertFalse(stacks.waiting(), "the collected parks are forgotten");
        advanceMillis(10_000);
        assertFalse(stacks.check());
        assertEquals(1, collections, "one collection per wave");
    }

    @Test
    void aSmallWaveIsNotWorthAPauseAndIsForgotten() {
        park(ParkedStacks.MIN_CHANNELS - 1);
        advanceMillis(1_000);
        assertFalse(stacks.check());
        assertFalse(stacks.waiting());
        park(ParkedStacks.MIN_CHANNELS - 1); // a second small wave does not add up with the first
        advanceMillis(1_000);
        assertFalse(stacks.check());
        assertEquals(0, collections);
    }

    @Test
    void aSteadyTrickleOfParksIsCollectedAtMostOncePerMaximumDelay() {
        long maxDelayMillis = TimeUnit.NANOSECONDS.toMillis(ParkedStacks.MAX_DELAY_NANOS);
        long step = 100; // a park every 100 ms: never quiet
        long perStep = ParkedStacks.MIN_CHANNELS / 100 + 1;
        int checks = 0;
        for (long t = 0; t < 2 * maxDelayMillis + 1_000; t += step) {
            park(perStep);
            advanceMillis(step);
            stacks.check();
            checks++;
        }
        assertTrue(checks > 1_000);
        assertEquals(2, collections, "one per " + maxDelayMillis + " ms of trickle, not one per check");
    }
}
