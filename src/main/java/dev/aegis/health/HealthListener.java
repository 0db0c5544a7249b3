package dev.aegis.health;

import dev.aegis.backend.Backend;

/**
 * Told about every health transition the {@link HealthChecker} makes (for metrics, events).
 * Called on the probe's thread right after {@link Backend#setHealthy(boolean)}: keep it short and
 * non-blocking. An exception thrown here is logged and does not disturb the checks.
 */
@FunctionalInterface
public interface HealthListener {

    /** A listener that ignores everything. */
    HealthListener NONE = (backend, healthy) -> { };

    /** {@code backend} has just turned healthy ({@code true}) or unhealthy ({@code false}). */
    void changed(Backend backend, boolean healthy);
}
