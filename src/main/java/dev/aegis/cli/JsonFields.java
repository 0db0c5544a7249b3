package dev.aegis.cli;

import java.util.List;
import java.util.Map;

/**
 * Forgiving reads of a parsed JSON answer for printing: a missing key or a value of another type
 * gives a neutral fallback instead of an exception, so a field an older or newer Aegis does not
 * send prints as empty or zero rather than ending the command.
 */
final class JsonFields {

    private JsonFields() {
    }

    /** Text as printed: strings as they are, numbers and booleans in their JSON form; null or absent gives {@code fallback}. */
    static String text(Object value, String fallback) {
        return switch (value) {
            case null -> fallback;
            case String s -> s;
            case Number n -> n.toString();
            case Boolean b -> b.toString();
            default -> ""; // an object or array has no text
        };
    }

    /** A whole number; anything that is not a number gives 0. */
    static long number(Object value) {
        return value instanceof Number n ? n.longValue() : 0;
    }

    static boolean bool(Object value) {
        return switch (value) {
            case Boolean b -> b;
            case Number n -> n.longValue() != 0;
            case String s -> s.trim().equals("true");
            case null, default -> false;
        };
    }

    /** The elements of an array; anything else has none. */
    static List<?> elements(Object value) {
        return value instanceof List<?> list ? list : List.of();
    }

    /** The members of an object; anything else has none. */
    @SuppressWarnings("unchecked") // JsonReader's objects are maps from String
    static Map<String, Object> entries(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
