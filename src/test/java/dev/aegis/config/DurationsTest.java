package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @Test
    void parsesEachUnit() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(5), Durations.parse("5s"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
        assertEquals(Duration.ofHours(1), Durations.parse("1h"));
        assertEquals(Duration.ofNanos(250), Durations.parse("250ns"));
        assertEquals(Duration.ofNanos(7_000), Durations.parse("7us"));
        assertEquals(Duration.ofNanos(7_000), Durations.parse("7µs"));
    }

    @Test
    void parsesCombinationsAndDecimals() {
        assertEquals(Duration.ofSeconds(90), Durations.parse("1m30s"));
        assertEquals(Duration.ofMinutes(90).plusMillis(250), Durations.parse("1h30m250ms"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5s"));
        assertEquals(Duration.ofMillis(500), Durations.parse(".5s"));
        assertEquals(Duration.ZERO, Durations.parse("0s"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''       | empty duration (e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "'   '    | empty duration (e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "-5s      | negative duration \"-5s\" is not allowed",
        "5        | missing unit in duration \"5\" (use ns, us, ms, s, m or h, e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "1m30     | missing unit in duration \"1m30\" (use ns, us, ms, s, m or h, e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "5d       | unknown unit \"d\" in duration \"5d\" (use ns, us, ms, s, m or h)",
        "5S       | unknown unit \"S\" in duration \"5S\" (use ns, us, ms, s, m or h)",
        "'5 s'    | unknown unit \" s\" in duration \"5 s\" (use ns, us, ms, s, m or h)",
        "s        | invalid duration \"s\" (e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "+5s      | invalid duration \"+5s\" (e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "1..5s    | invalid duration \"1..5s\" (e.g. 500ms, 5s, 2m, 1h or 1m30s)",
        "99999999999999h | duration \"99999999999999h\" is too large",
    })
    void rejectsWithAMessageNamingTheProblem(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals(message, e.getMessage());
    }

    @Test
    void rejectsNull() {
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(null));
    }

    @ParameterizedTest
    @CsvSource({
        "PT5S, 5s",
        "PT0.5S, 500ms",
        "PT1.5S, 1500ms",
        "PT90S, 1m30s",
        "PT1H, 1h",
        "PT1H0M1S, 1h1s",
        "PT24H, 24h",
        "PT0S, 0s",
        "PT0.000007S, 7us",
        "PT0.000000250S, 250ns",
    })
    void formatsAsAnOperatorWritesIt(String iso, String text) {
        assertEquals(text, Durations.format(Duration.parse(iso)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"5s", "500ms", "1m30s", "1h30m250ms", "1.25s", "36h", "3ns", "123us"})
    void formatReadsBackToTheSameDuration(String text) {
        Duration parsed = Durations.parse(text);
        assertEquals(parsed, Durations.parse(Durations.format(parsed)));
    }

    @Test
    void refusesToFormatANegativeDuration() {
        assertThrows(IllegalArgumentException.class, () -> Durations.format(Duration.ofSeconds(-1)));
    }
}
