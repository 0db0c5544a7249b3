package dev.aegis.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

class StderrLoggerTest {

    private static final long AT = Instant.parse("2026-11-30T05:13:47.515Z").toEpochMilli();

    @Test
    void writesTimestampLevelAndFormattedMessageOnOneLine() {
        byte[] event = StderrLogger.format(AT, Level.WARN, "backend down backend={} after={}ms",
                new Object[] {"127.0.0.1:3000", 42}, null);
        assertEquals("2026-11-30T05:13:47.515Z WARN backend down backend=127.0.0.1:3000 after=42ms\n",
                new String(event, StandardCharsets.UTF_8));
    }

    @Test
    void followsTheLineWithTheStackTraceOfAThrowable() {
        String text = new String(StderrLogger.format(AT, Level.ERROR, "failed", null,
                new IllegalStateException("boom")), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("2026-11-30T05:13:47.515Z ERROR failed\njava.lang.IllegalStateException: boom\n"), text);
        assertTrue(text.contains("\tat dev.aegis.logging.StderrLoggerTest"), text);
    }

    @Test
    void levelsAtOrAboveTheThresholdAreOn() {
        LogLevel warn = LogLevel.of("WARN");
        assertTrue(warn.enables(Level.ERROR));
        assertTrue(warn.enables(Level.WARN));
        assertFalse(warn.enables(Level.INFO));
        assertTrue(LogLevel.of("trace").enables(Level.TRACE));
        assertFalse(LogLevel.of("off").enables(Level.ERROR));
        assertTrue(LogLevel.of(null).enables(Level.INFO), "unset means info");
        assertFalse(LogLevel.of("verbose").enables(Level.DEBUG), "unknown means info");
    }

    @Test
    void slf4jFindsThisProvider() {
        assertEquals(StderrLogger.class, LoggerFactory.getLogger("any").getClass());
    }
}
