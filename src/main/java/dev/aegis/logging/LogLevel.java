package dev.aegis.logging;

import java.util.Locale;
import org.slf4j.event.Level;

/**
 * The one level every logger shares, read once when logging starts from the system property
 * slf4j-simple uses, {@code org.slf4j.simpleLogger.defaultLogLevel} ({@code bin/aegis start}
 * sets it from {@code logging.level} before the first logger exists). Unset or unknown: info.
 */
final class LogLevel {

    static final String PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    /** slf4j's Level numbers: ERROR 40 ... TRACE 0; a level is on when at or above this. */
    private final int threshold;

    private LogLevel(int threshold) {
        this.threshold = threshold;
    }

    static LogLevel of(String name) {
        if (name == null) {
            return new LogLevel(Level.INFO.toInt());
        }
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "trace" -> new LogLevel(Level.TRACE.toInt());
            case "debug" -> new LogLevel(Level.DEBUG.toInt());
            case "warn" -> new LogLevel(Level.WARN.toInt());
            case "error" -> new LogLevel(Level.ERROR.toInt());
            case "off" -> new LogLevel(Integer.MAX_VALUE);
            default -> new LogLevel(Level.INFO.toInt());
        };
    }

    static LogLevel fromSystemProperty() {
        return of(System.getProperty(PROPERTY));
    }

    boolean enables(Level level) {
        return level.toInt() >= threshold;
    }
}
