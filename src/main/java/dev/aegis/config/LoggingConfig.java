package dev.aegis.config;

/**
 * {@code logging:}.
 *
 * @param level     error | warn | info (default) | debug | trace
 * @param accessLog one line per finished TCP connection and expired UDP session, default true
 */
public record LoggingConfig(String level, boolean accessLog) {
}
