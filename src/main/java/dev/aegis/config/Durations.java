package dev.aegis.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;

/**
 * Durations as written in the config file: a number and a unit ({@code 500ms}, {@code 5s},
 * {@code 2m}, {@code 1h}), several of them in a row ({@code 1m30s}), and decimals ({@code 1.5s}).
 * This is the syntax of Go's {@code time.ParseDuration} without signs, so files written for the
 * original Aegis keep their meaning. Units: {@code ns}, {@code us} (or {@code µs}), {@code ms},
 * {@code s}, {@code m}, {@code h}.
 */
public final class Durations {

    private static final String EXAMPLES = "e.g. 500ms, 5s, 2m, 1h or 1m30s";
    private static final String UNITS = "ns, us, ms, s, m or h";
    private static final Map<String, Long> NANOS_PER_UNIT = Map.of(
            "ns", 1L,
            "us", 1_000L,
            "µs", 1_000L,
            "ms", 1_000_000L,
            "s", 1_000_000_000L,
            "m", 60_000_000_000L,
            "h", 3_600_000_000_000L);
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    private Durations() {
    }

    /**
     * Parses a duration.
     *
     * @throws IllegalArgumentException with a message meant for the operator (it names the
     *                                  text and says what is wrong) when the text is empty,
     *                                  negative, lacks a unit, has an unknown unit or is too large
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration (" + EXAMPLES + ")");
        }
        if (text.startsWith("-")) {
            throw new IllegalArgumentException("negative duration \"" + text + "\" is not allowed");
        }
        BigInteger total = BigInteger.ZERO;
        int i = 0;
        while (i < text.length()) {
            int numberStart = i;
            while (i < text.length() && (isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            String number = text.substring(numberStart, i);
            if (number.isEmpty() || !number.matches("\\d+(\\.\\d+)?|\\d*\\.\\d+")) {
                throw new IllegalArgumentException("invalid duration \"" + text + "\" (" + EXAMPLES + ")");
            }
            int unitStart = i;
            while (i < text.length() && !isDigit(text.charAt(i)) && text.charAt(i) != '.') {
                i++;
            }
            String unit = text.substring(unitStart, i);
            if (unit.isEmpty()) {
                throw new IllegalArgumentException(
                        "missing unit in duration \"" + text + "\" (use " + UNITS + ", " + EXAMPLES + ")");
            }
            Long nanosPerUnit = NANOS_PER_UNIT.get(unit);
            if (nanosPerUnit == null) {
                throw new IllegalArgumentException(
                        "unknown unit \"" + unit + "\" in duration \"" + text + "\" (use " + UNITS + ")");
            }
            total = total.add(new BigDecimal(number).multiply(BigDecimal.valueOf(nanosPerUnit)).toBigInteger());
            if (total.compareTo(MAX_NANOS) > 0) {
                throw new IllegalArgumentException("duration \"" + text + "\" is too large");
            }
        }
        return Duration.ofNanos(total.longValueExact());
    }

    /**
     * Writes a duration the way an operator would: {@code 5s}, {@code 1m30s}, {@code 1h},
     * {@code 500ms}, {@code 1500ms}. {@link #parse} reads every output back to the same value.
     *
     * @throws IllegalArgumentException for a negative duration
     */
    public static String format(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("negative duration " + duration);
        }
        if (duration.isZero()) {
            return "0s";
        }
        if (duration.getNano() == 0) {
            long seconds = duration.getSeconds();
            StringBuilder out = new StringBuilder();
            appendPart(out, seconds / 3600, "h");
            appendPart(out, seconds % 3600 / 60, "m");
            appendPart(out, seconds % 60, "s");
            return out.toString();
        }
        // Sub-second parts read best as one number of the largest unit that divides evenly.
        long nanos = duration.toNanos();
        if (nanos % 1_000_000 == 0) {
            return nanos / 1_000_000 + "ms";
        }
        if (nanos % 1_000 == 0) {
            return nanos / 1_000 + "us";
        }
        return nanos + "ns";
    }

    private static void appendPart(StringBuilder out, long amount, String unit) {
        if (amount > 0) {
            out.append(amount).append(unit);
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
