package dev.aegis.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A value of the YAML tree together with its path ({@code proxy.backends[1].weight}). Every
 * typed read reports a problem to the shared {@link Findings} and returns the default instead of
 * throwing, so that reading goes on and every error of the file is found in one pass.
 *
 * <p>An absent key and an explicit YAML null ({@code key:} with nothing after it, or {@code ~})
 * are the same: the default applies, as if the line were commented out.
 */
final class ConfigNode {

    private static final int MAX_SHOWN_TEXT = 40;

    /** Null when absent or YAML null. */
    private final JsonNode value;
    private final String path;
    private final Findings findings;

    private ConfigNode(JsonNode value, String path, Findings findings) {
        this.value = value == null || value.isNull() || value.isMissingNode() ? null : value;
        this.path = path;
        this.findings = findings;
    }

    static ConfigNode root(JsonNode tree, Findings findings) {
        return new ConfigNode(tree, "", findings);
    }

    String path() {
        return path;
    }

    boolean isPresent() {
        return value != null;
    }

    boolean isMap() {
        return value != null && value.isObject();
    }

    boolean isList() {
        return value != null && value.isArray();
    }

    /** How the value reads in a message: {@code "text"}, {@code 42}, {@code a list}... */
    String describe() {
        return describe(value);
    }

    void error(String message) {
        findings.error(path, message);
    }

    void warn(String message) {
        findings.warn(path, message);
    }

    /**
     * Checks that this value is a map whose keys are all among {@code knownKeys}; reports each
     * unknown key at its own path, with the closest known key when one is near. Absent counts as
     * an empty map.
     *
     * @return this, for chaining
     */
    ConfigNode keys(String... knownKeys) {
        if (value == null) {
            return this;
        }
        if (!value.isObject()) {
            error("expected a map, got " + describe(value));
            return this;
        }
        for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!List.of(knownKeys).contains(name)) {
                findings.error(childPath(name), KeySuggestions.unknownKeyMessage(name, List.of(knownKeys)));
            }
        }
        return this;
    }

    /** The value under {@code key}; absent when this is absent or not a map (already reported by {@link #keys}). */
    ConfigNode get(String key) {
        JsonNode child = value != null && value.isObject() ? value.get(key) : null;
        return new ConfigNode(child, childPath(key), findings);
    }

    /** The elements of a list; absent gives no elements; anything else is reported. */
    List<ConfigNode> elements() {
        if (value == null) {
            return List.of();
        }
        if (!value.isArray()) {
            error("expected a list, got " + describe(value));
            return List.of();
        }
        List<ConfigNode> elements = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            elements.add(new ConfigNode(value.get(i), path + "[" + i + "]", findings));
        }
        return elements;
    }

    int integer(int defaultValue, int min, int max) {
        return (int) longInteger(defaultValue, min, max);
    }

    long longInteger(long defaultValue, long min, long max) {
        if (value == null) {
            return defaultValue;
        }
        if (!value.isIntegralNumber()) {
            error("expected a whole number, got " + describe(value));
            return defaultValue;
        }
        BigInteger number = value.bigIntegerValue();
        if (number.compareTo(BigInteger.valueOf(min)) < 0 || number.compareTo(BigInteger.valueOf(max)) > 0) {
            error(rangeMessage(number.signum() < 0, number.compareTo(BigInteger.valueOf(min)) < 0,
                    String.valueOf(min), String.valueOf(max), number.toString()));
            return defaultValue;
        }
        return number.longValueExact();
    }

    /** A number that may have a fraction ({@code 0.5} requests per second). */
    double number(double defaultValue, double min, double max) {
        if (value == null) {
            return defaultValue;
        }
        if (!value.isNumber()) {
            error("expected a number, got " + describe(value));
            return defaultValue;
        }
        BigDecimal number = value.decimalValue();
        if (number.compareTo(BigDecimal.valueOf(min)) < 0 || number.compareTo(BigDecimal.valueOf(max)) > 0) {
            error(rangeMessage(number.signum() < 0, number.compareTo(BigDecimal.valueOf(min)) < 0,
                    plain(min), plain(max), value.asText()));
            return defaultValue;
        }
        return number.doubleValue();
    }

    boolean bool(boolean defaultValue) {
        if (value == null) {
            return defaultValue;
        }
        if (!value.isBoolean()) {
            error("expected true or false, got " + describe(value));
            return defaultValue;
        }
        return value.booleanValue();
    }

    Optional<String> text() {
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            String hint = value.isValueNode() ? " (put it in quotes)" : "";
            error("expected a string, got " + describe(value) + hint);
            return Optional.empty();
        }
        return Optional.of(value.textValue());
    }

    String text(String defaultValue) {
        return text().orElse(defaultValue);
    }

    /** A duration such as {@code 5s}, within [min, max]. */
    Duration duration(Duration defaultValue, Duration min, Duration max) {
        if (value == null) {
            return defaultValue;
        }
        if (!value.isTextual()) {
            String hint = value.isNumber() ? " (add a unit: ms, s, m or h)" : "";
            error("expected a duration such as 5s, got " + describe(value) + hint);
            return defaultValue;
        }
        Duration duration;
        try {
            duration = Durations.parse(value.textValue());
        } catch (IllegalArgumentException e) {
            error(e.getMessage());
            return defaultValue;
        }
        if (duration.compareTo(min) < 0) {
            error("must be at least " + Durations.format(min) + ", got " + value.textValue());
            return defaultValue;
        }
        if (duration.compareTo(max) > 0) {
            error("must be at most " + Durations.format(max) + ", got " + value.textValue());
            return defaultValue;
        }
        return duration;
    }

    /**
     * One of a fixed set of names, compared without regard to case.
     *
     * @param choices the accepted names in lower case (aliases included), in the order to list them
     */
    <T> T choice(Map<String, T> choices, T defaultValue) {
        Optional<String> name = text();
        if (name.isEmpty()) {
            return defaultValue;
        }
        T chosen = choices.get(name.get().toLowerCase(Locale.ROOT));
        if (chosen == null) {
            error("must be one of " + String.join(", ", choices.keySet()) + ", got " + describe(value));
            return defaultValue;
        }
        return chosen;
    }

    /**
     * An address {@code host:port}.
     *
     * @param parser {@link Addresses#parseBackend} or {@link Addresses#parseListener}
     */
    Optional<HostPort> address(Function<String, HostPort> parser) {
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            error("expected an address \"host:port\", got " + describe(value));
            return Optional.empty();
        }
        try {
            return Optional.of(parser.apply(value.textValue()));
        } catch (IllegalArgumentException e) {
            error(e.getMessage());
            return Optional.empty();
        }
    }

    /** A listen entry: {@code host:port} or a port range {@code host:first-last}. */
    Optional<ListenRange> listenRange() {
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            error("expected an address \"host:port\" or a port range \"host:first-last\", got " + describe(value));
            return Optional.empty();
        }
        try {
            return Optional.of(Addresses.parseListenRange(value.textValue()));
        } catch (IllegalArgumentException e) {
            error(e.getMessage());
            return Optional.empty();
        }
    }

    private String childPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String rangeMessage(boolean negative, boolean tooSmall, String min, String max, String actual) {
        if (negative && "0".equals(min)) {
            return "must not be negative, got " + actual;
        }
        return (tooSmall ? "must be at least " + min : "must be at most " + max) + ", got " + actual;
    }

    private static String plain(double number) {
        return BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
    }

    /** A value as it appears in a message: strings quoted and shortened to one line, containers by kind. */
    static String describe(JsonNode node) {
        if (node == null) {
            return "nothing";
        }
        if (node.isTextual()) {
            return "\"" + oneLine(node.textValue()) + "\"";
        }
        if (node.isNumber() || node.isBoolean()) {
            return node.asText();
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a map";
        }
        if (node.isBinary() || node.isPojo()) {
            return "binary data (!!binary)";
        }
        return "a " + node.getNodeType().name().toLowerCase(Locale.ROOT) + " value";
    }

    private static String oneLine(String text) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        for (; i < text.length() && i < MAX_SHOWN_TEXT; i++) {
            char c = text.charAt(i);
            out.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return i < text.length() ? out + "..." : out.toString();
    }
}
