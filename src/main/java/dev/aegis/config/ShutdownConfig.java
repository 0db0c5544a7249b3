package dev.aegis.config;

import java.time.Duration;

/**
 * {@code shutdown:}.
 *
 * @param drainTimeout on SIGTERM, how long open connections may take to finish, default 30s
 */
public record ShutdownConfig(Duration drainTimeout) {
}
