package dev.aegis.config;

import java.time.Duration;

/**
 * A service's {@code queue:} (SPEC §11): where new TCP connections wait when every eligible
 * backend is at its {@code max_connections}.
 *
 * @param size    connections that may wait at once, in arrival order; 0 (default) = no queue: a
 *                connection that finds every backend full is rejected at once ({@code no_backend})
 * @param timeout how long one connection may wait for a slot before it is rejected
 *                ({@code queue_timeout}), default 5s
 */
public record QueueConfig(int size, Duration timeout) {

    /** No queue, with the default timeout. */
    public static final QueueConfig NONE = new QueueConfig(0, Duration.ofSeconds(5));

    public QueueConfig {
        if (size < 0) {
            throw new IllegalArgumentException("queue size must not be negative, got " + size);
        }
    }
}
