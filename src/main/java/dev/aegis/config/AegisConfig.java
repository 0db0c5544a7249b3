package dev.aegis.config;

/**
 * One parsed and validated configuration file: an immutable snapshot. A reload builds a new one
 * and swaps it in as a whole; nothing in it ever changes.
 */
public record AegisConfig(ProxyConfig proxy, AdminConfig admin, LoggingConfig logging, ShutdownConfig shutdown) {
}
