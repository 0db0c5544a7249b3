package dev.aegis.traffic;

import dev.aegis.config.CircuitBreakerConfig;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A per-backend circuit breaker. States:
 * <pre>
 *   CLOSED    traffic flows; consecutive failures are counted, a success resets the count;
 *             errorThreshold failures in a row -> OPEN
 *   OPEN      no traffic until openUntil; then the next caller of tryAcquire() becomes the
 *             single trial -> HALF_OPEN
 *   HALF_OPEN one trial connection is in flight, nobody else gets through;
 *             its success -> CLOSED, its failure -> OPEN again for another timeout;
 *             no verdict within one more timeout, at least TRIAL_VERDICT_FLOOR (the trial was
 *             lost: its connection ended without calling onSuccess/onFailure) -> the next
 *             caller becomes a new trial
 * </pre>
 * Without that last rule a single lost trial would keep the backend out of rotation for good,
 * since nothing else (health checks included) ever closes the circuit.
 * The state is one immutable record swapped with compare-and-set, so the hot path (a closed
 * circuit with no failures) reads one reference and allocates nothing.
 */
public final class CircuitBreaker {

    /** The circuit states as the admin API and metrics name them. */
    public enum Phase {
        CLOSED("closed"), OPEN("open"), HALF_OPEN("half_open");

        private final String label;

        Phase(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** @param deadlineNanos OPEN: end of the open period; HALF_OPEN: when the trial counts as lost */
    private record State(Phase phase, int failures, long deadlineNanos) {
    }

    /**
     * The least time a trial gets to report before it counts as lost: the default connect timeout,
     * so that a short (or zero) open timeout does not let a second trial race an ordinary one.
     */
    static final long TRIAL_VERDICT_FLOOR_NANOS = 5_000_000_000L;

    private static final State CLOSED_CLEAN = new State(Phase.CLOSED, 0, 0);

    private final AtomicReference<State> state = new AtomicReference<>(CLOSED_CLEAN);
    private final LongSupplier nanoClock;
    private volatile CircuitBreakerConfig config;

    public CircuitBreaker(CircuitBreakerConfig config) {
        this(config, System::nanoTime);
    }

    public CircuitBreaker(CircuitBreakerConfig config, LongSupplier nanoClock) {
        this.config = config;
        this.nanoClock = nanoClock;
    }

    /** Takes new thresholds on reload; the current state is kept. */
    public void reconfigure(CircuitBreakerConfig config) {
        this.config = config;
    }

    public Phase phase() {
        State s = state.get();
        if (s.phase == Phase.OPEN && nanoClock.getAsLong() - s.deadlineNanos >= 0) {
            return Phase.HALF_OPEN; // due for a trial: reported as the operator would think of it
        }
        return s.phase;
    }

    /** True if a new connection could be let through now (no side effect: used to rank backends). */
    public boolean allowsTraffic() {
        State s = state.get();
        return switch (s.phase) {
            case CLOSED -> true;
            case OPEN, HALF_OPEN -> nanoClock.getAsLong() - s.deadlineNanos >= 0;
        };
    }

    /**
     * Claims the right to send one connection. In CLOSED always true; in OPEN after the timeout
     * exactly one caller wins and becomes the half-open trial (and again if that trial gets no
     * verdict within the timeout).
     */
    public boolean tryAcquire() {
        while (true) {
            State s = state.get();
            switch (s.phase) {
                case CLOSED:
                    return true;
                case OPEN, HALF_OPEN:
                    long now = nanoClock.getAsLong();
                    if (now - s.deadlineNanos < 0) {
                        return false;
                    }
                    long verdictWait = Math.max(config.timeout().toNanos(), TRIAL_VERDICT_FLOOR_NANOS);
                    State trial = new State(Phase.HALF_OPEN, s.failures, now + verdictWait);
                    if (state.compareAndSet(s, trial)) {
                        return true;
                    }
                    break; // somebody else changed it: look again
                default:
                    throw new IllegalStateException(s.phase.name());
            }
        }
    }

    /** A connection to the backend succeeded. */
    public void onSuccess() {
        while (true) {
            State s = state.get();
            if (s == CLOSED_CLEAN || s.phase == Phase.OPEN) {
                return; // nothing to reset; a late success from before the circuit opened changes nothing
            }
            if (state.compareAndSet(s, CLOSED_CLEAN)) {
                return;
            }
        }
    }

    /** A connect error, connect timeout or read timeout on the backend. */
    public void onFailure() {
        while (true) {
            State s = state.get();
            CircuitBreakerConfig c = config;
            State next = switch (s.phase) {
                case CLOSED -> s.failures + 1 >= c.errorThreshold()
                        ? open(s.failures + 1, c)
                        : new State(Phase.CLOSED, s.failures + 1, 0);
                case HALF_OPEN -> open(s.failures + 1, c);
                case OPEN -> null; // already open: stragglers do not extend the timeout
            };
            if (next == null || state.compareAndSet(s, next)) {
                return;
            }
        }
    }

    /** Consecutive failures seen since the last success. */
    public int consecutiveFailures() {
        return state.get().failures;
    }

    private State open(int failures, CircuitBreakerConfig c) {
        return new State(Phase.OPEN, failures, nanoClock.getAsLong() + c.timeout().toNanos());
    }
}
