package dev.aegis.json;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;

/**
 * Writes maps, lists and plain values as compact JSON (RFC 8259), the way the admin API has
 * always answered: map entries in the map's own order, no spaces, non-ASCII characters as they
 * are (the text is UTF-8), control characters, {@code "} and {@code \} escaped.
 *
 * <p>Accepted values: {@code null}, {@link String} (any {@link CharSequence}), {@link Boolean},
 * {@link Integer}, {@link Long}, {@link Short}, {@link Byte}, {@link BigInteger},
 * {@link BigDecimal}, {@link Double}, {@link Float}, {@link Map} (keys written with
 * {@code String.valueOf}) and {@link Iterable}. A NaN or infinite double has no JSON number, so it
 * is written as a string ({@code "NaN"}), as Jackson did. Anything else is a bug of the caller:
 * {@link IllegalArgumentException}.
 */
public final class JsonWriter {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private JsonWriter() {
    }

    /** @return {@code value} as JSON text */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    /** Appends {@code value} as JSON to {@code out}. */
    public static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case CharSequence text -> string(text, out);
            case Boolean bool -> out.append(bool.booleanValue());
            case Integer number -> out.append(number.intValue());
            case Long number -> out.append(number.longValue());
            case Short number -> out.append(number.shortValue());
            case Byte number -> out.append(number.byteValue());
            case BigInteger number -> out.append(number);
            case BigDecimal number -> out.append(number);
            case Double number -> floating(number, Double.isFinite(number), out);
            case Float number -> floating(number, Float.isFinite(number), out);
            case Map<?, ?> map -> object(map, out);
            case Iterable<?> list -> array(list, out);
            default -> throw new IllegalArgumentException("no JSON form for " + value.getClass().getName());
        }
    }

    private static void floating(Number number, boolean finite, StringBuilder out) {
        if (finite) {
            out.append(number);
        } else {
            string(number.toString(), out);
        }
    }

    private static void object(Map<?, ?> map, StringBuilder out) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(String.valueOf(entry.getKey()), out);
            out.append(':');
            write(entry.getValue(), out);
        }
        out.append('}');
    }

    private static void array(Iterable<?> list, StringBuilder out) {
        out.append('[');
        boolean first = true;
        for (Object element : list) {
            if (!first) {
                out.append(',');
            }
            first = false;
            write(element, out);
        }
        out.append(']');
    }

    /** A string with the escapes RFC 8259 requires; a lone surrogate is escaped so the text stays valid UTF-8. */
    static void string(CharSequence text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c) && !pairedSurrogate(text, i)) {
                        unicodeEscape(c, out);
                    } else if (Character.isHighSurrogate(c)) {
                        out.append(c).append(text.charAt(++i));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** True when {@code text[i]} is a high surrogate followed by a low one. */
    private static boolean pairedSurrogate(CharSequence text, int i) {
        return Character.isHighSurrogate(text.charAt(i)) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1));
    }

    private static void unicodeEscape(char c, StringBuilder out) {
        out.append("\\u").append(HEX[c >> 12 & 0xF]).append(HEX[c >> 8 & 0xF]).append(HEX[c >> 4 & 0xF]).append(HEX[c & 0xF]);
    }
}
