package dev.aegis.backend;

/**
 * Backend selection with retry, shared by TCP connections and UDP sessions: pick an eligible
 * backend not yet tried, claim a slot on it, let the protocol try it, and go on to the next one
 * when it failed. The protocol says what "try" means (a TCP connect with its timeout, a UDP
 * channel connected to the backend) and what each failure is: a backend's failure counts against
 * its circuit and the next backend is tried; a local failure (typically no descriptor left) is
 * not the backend's fault, and no other backend would fare better, so it ends the attempts.
 *
 * <p>Allocation-free when the first backend picked succeeds (the list of tried backends is
 * only made for a second pick); no lock.
 */
public final class Attempts {

    private Attempts() {
    }

    /** What trying one backend (whose slot is held) came to. */
    public enum Outcome {
        /** Connected: the step keeps the slot (or has already given it back itself). */
        CONNECTED,
        /** The backend failed: its slot is given back, a failure is recorded, the next one is tried. */
        BACKEND_FAILED,
        /** Not the backend's fault and not tried (e.g. a closing listener): slot given back, next one. */
        SKIPPED,
        /** Local trouble: slot given back, no failure recorded, no other backend is tried. */
        LOCAL_FAILURE
    }

    /** How the attempts ended. */
    public enum Result {
        /** A step answered {@link Outcome#CONNECTED}. */
        CONNECTED,
        /** No eligible backend, and none failed. */
        NO_BACKEND,
        /** At least one backend failed, and then retries or eligible backends ran out. */
        BACKENDS_FAILED,
        /** A step answered {@link Outcome#LOCAL_FAILURE}. */
        LOCAL_FAILURE
    }

    /** Tries one backend on behalf of {@code attempt}; the backend's slot is held when called. */
    @FunctionalInterface
    public interface Step<A> {
        Outcome tryBackend(Backend backend, A attempt);
    }

    /**
     * Tries backends of {@code set} until one connects.
     *
     * @param clientHash what consistent hashing keys on
     * @param retries    backends tried after failed ones at most (a backend that could not be
     *                   claimed, full or circuit-open, is skipped and not counted)
     */
    public static <A> Result run(BackendSet set, int clientHash, int retries, Step<A> step, A attempt) {
        Tried tried = Tried.NONE;
        int failures = 0;
        while (true) {
            Backend b = set.select(clientHash, tried);
            if (b == null) {
                return failures == 0 ? Result.NO_BACKEND : Result.BACKENDS_FAILED;
            }
            if (b.tryAcquire()) { // else it filled up (or its half-open trial was taken) since it was picked
                switch (step.tryBackend(b, attempt)) {
                    case CONNECTED -> {
                        return Result.CONNECTED;
                    }
                    case LOCAL_FAILURE -> {
                        b.release();
                        return Result.LOCAL_FAILURE;
                    }
                    case BACKEND_FAILED -> {
                        b.release();
                        b.recordFailure();
                        if (++failures > retries) {
                            return Result.BACKENDS_FAILED;
                        }
                    }
                    case SKIPPED -> b.release();
                }
            }
            if (tried == Tried.NONE) {
                tried = new Tried(set.backends().size());
            }
            tried.add(b);
        }
    }
}
