package dev.aegis.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UtcTimestampTest {

    private static final DateTimeFormatter JAVA_TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private static String format(long epochMillis) {
        return UtcTimestamp.append(new StringBuilder(), epochMillis).toString();
    }

    @Test
    void formatsLikeInstantToStringWithMilliseconds() {
        assertEquals("1970-01-01T00:00:00.000Z", format(0));
        assertEquals("2026-11-30T05:13:47.515Z", format(Instant.parse("2026-11-30T05:13:47.515Z").toEpochMilli()));
        assertEquals("2024-02-29T23:59:59.999Z", format(Instant.parse("2024-02-29T23:59:59.999Z").toEpochMilli()));
        assertEquals("1969-12-31T23:59:59.999Z", format(-1));
    }

    @Test
    void agreesWithJavaTimeOverFourHundredYearsOfRandomInstants() {
        SplittableRandom random = new SplittableRandom(42);
        long from = Instant.parse("1800-01-01T00:00:00Z").toEpochMilli();
        long to = Instant.parse("2200-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 200_000; i++) {
            long millis = random.nextLong(from, to);
            assertEquals(JAVA_TIME.format(Instant.ofEpochMilli(millis)), format(millis), "epoch millis " + millis);
        }
    }

    @Test
    void agreesWithJavaTimeAtEveryMonthBoundaryAroundLeapYears() {
        for (int year : new int[] {1900, 2000, 2023, 2024, 2100}) {
            for (int month = 1; month <= 12; month++) {
                Instant first = Instant.parse(String.format("%04d-%02d-01T00:00:00Z", year, month));
                assertEquals(String.format("%04d-%02d-01T00:00:00.000Z", year, month), format(first.toEpochMilli()));
                assertEquals(JAVA_TIME.format(first.minusMillis(1)), format(first.toEpochMilli() - 1));
            }
        }
    }
}
