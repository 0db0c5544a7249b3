package dev.aegis.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Base64;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Gives a YAML scalar its type. Configuration files were read through Jackson's YAML module for
 * years; these are its rules, kept exactly so that no file changes meaning: SnakeYAML's YAML 1.1
 * resolver decides the type of an untagged scalar (a quoted one is always text), {@code yes},
 * {@code on} and friends are booleans, whole numbers may be hexadecimal ({@code 0x10}), octal
 * ({@code 010}), binary ({@code 0b10}) or use {@code _} separators, sexagesimal {@code 1:30} stays
 * text, and the tags {@code !!str}, {@code !!int}, {@code !!float}, {@code !!bool}, {@code !!null}
 * and {@code !!binary} are honoured. A scalar that claims to be a number but is none
 * ({@code .inf}, {@code !!float abc}) is an error of the file, as it always was.
 */
final class YamlScalars {

    /** Longer numbers are refused (the limit Jackson applied by default). */
    static final int MAX_NUMBER_LENGTH = 1000;

    private static final Resolver RESOLVER = new Resolver();
    private static final String STANDARD_TAG_PREFIX = "tag:yaml.org,2002:";
    private static final String[] TRUE_WORDS = {"yes", "on", "true"};
    private static final String[] FALSE_WORDS = {"no", "off", "false"};

    private YamlScalars() {
    }

    /** A scalar that cannot be read as the number (or binary) it claims to be. */
    static final class BadScalar extends Exception {
        /** @param located whether the message is about this scalar's position (else about none) */
        final boolean located;

        BadScalar(String message, boolean located) {
            super(message, null, false, false);
            this.located = located;
        }
    }

    static YamlNode type(ScalarEvent scalar) throws BadScalar {
        String value = scalar.getValue();
        String tag = scalar.getTag();
        if (tag == null || tag.equals("!")) {
            Tag resolved = RESOLVER.resolve(NodeId.scalar, value, scalar.getImplicit().canOmitTagInPlainScalar());
            if (resolved == Tag.INT) {
                return wholeNumber(value);
            }
            if (resolved == Tag.FLOAT) {
                return decimal(value);
            }
            if (resolved == Tag.BOOL) {
                return bool(value);
            }
            return resolved == Tag.NULL ? new YamlNode.Null() : new YamlNode.Text(value);
        }
        String name = tag.startsWith(STANDARD_TAG_PREFIX) ? tag.substring(STANDARD_TAG_PREFIX.length()) : tag;
        int comma = name.indexOf(',');
        if (tag.startsWith(STANDARD_TAG_PREFIX) && comma >= 0) {
            name = name.substring(0, comma);
        }
        if (name.equals("binary")) {
            return binary(value);
        }
        if (name.equals("bool")) {
            return bool(value);
        }
        if (!value.isEmpty()) {
            switch (name) {
                case "int" -> {
                    return wholeNumber(value);
                }
                case "float" -> {
                    return decimal(value);
                }
                case "null" -> {
                    return new YamlNode.Null();
                }
                default -> {
                }
            }
        }
        return new YamlNode.Text(value);
    }

    /** Booleans as YAML 1.1 spells them, ignoring case ({@code y} and {@code n} only alone); else text. */
    private static YamlNode bool(String value) {
        if (value.equals("y") || value.equals("Y")) {
            return new YamlNode.Bool(true);
        }
        if (value.equals("n") || value.equals("N")) {
            return new YamlNode.Bool(false);
        }
        for (String word : TRUE_WORDS) {
            if (word.equalsIgnoreCase(value)) {
                return new YamlNode.Bool(true);
            }
        }
        for (String word : FALSE_WORDS) {
            if (word.equalsIgnoreCase(value)) {
                return new YamlNode.Bool(false);
            }
        }
        return new YamlNode.Text(value);
    }

    private static YamlNode wholeNumber(String value) throws BadScalar {
        int length = value.length();
        boolean negative = value.charAt(0) == '-';
        int i = negative || value.charAt(0) == '+' ? 1 : 0;
        if (i == length) {
            return new YamlNode.Text(value); // a lone sign, only reachable through !!int
        }
        if (value.charAt(i) == '0') {
            if (++i == length) {
                return new YamlNode.WholeNumber(BigInteger.ZERO);
            }
            return switch (value.charAt(i)) {
                case 'b', 'B' -> radix(value, i + 1, 2, 31, 63, negative);
                case 'x', 'X' -> radix(value, i + 1, 16, 7, 15, negative);
                case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '_' -> radix(value, i, 8, 10, 21, negative);
                default -> new YamlNode.Text(value);
            };
        }
        boolean underscores = false;
        for (int j = i; j < length; j++) {
            char c = value.charAt(j);
            if (c == '_') {
                underscores = true;
            } else if (c < '0' || c > '9') {
                return new YamlNode.Text(value); // 1:30 (sexagesimal) and the like
            }
        }
        String digits = value;
        if (underscores) {
            digits = withoutUnderscores(value, value.charAt(0) == '+' ? 1 : 0);
            if (digits.isEmpty() || digits.equals("-")) {
                throw new BadScalar("Invalid number ('" + value + "')", true);
            }
        }
        if (digits.length() - (negative ? 1 : 0) > 18) {
            checkLength(digits.length());
        }
        return new YamlNode.WholeNumber(new BigInteger(digits));
    }

    /** Digits from {@code start} in base {@code radix}, read as int, long or BigInteger by their count. */
    private static YamlNode radix(String value, int start, int radix, int intDigits, int longDigits, boolean negative)
            throws BadScalar {
        String digits = withoutUnderscores(value, start);
        BigInteger number;
        try {
            if (digits.length() <= intDigits) {
                number = BigInteger.valueOf(Integer.parseInt(digits, radix));
            } else if (digits.length() <= longDigits) {
                number = BigInteger.valueOf(Long.parseLong(digits, radix));
            } else {
                checkLength(digits.length());
                number = new BigInteger(digits, radix);
            }
        } catch (NumberFormatException e) {
            throw new BadScalar(String.format("Invalid base-%d number ('%s'), problem: %s", radix, digits, e.getMessage()),
                    true);
        }
        return new YamlNode.WholeNumber(negative ? number.negate() : number);
    }

    private static YamlNode decimal(String value) throws BadScalar {
        String digits = value.indexOf('_') < 0 ? value : withoutUnderscores(value, value.charAt(0) == '+' ? 1 : 0);
        checkLength(digits.length());
        try {
            return new YamlNode.Decimal(new BigDecimal(digits));
        } catch (NumberFormatException e) {
            throw new BadScalar("Malformed numeric value '" + value + "'", true); // .inf, .nan, 1:30.5
        }
    }

    private static YamlNode binary(String value) throws BadScalar {
        try {
            Base64.getDecoder().decode(value.strip().replace("\n", "").replace("\r", ""));
        } catch (IllegalArgumentException e) {
            throw new BadScalar("invalid base64 in a !!binary value: " + e.getMessage(), true);
        }
        return new YamlNode.Binary();
    }

    private static void checkLength(int length) throws BadScalar {
        if (length > MAX_NUMBER_LENGTH) {
            throw new BadScalar("number too long: " + length + " digits (at most " + MAX_NUMBER_LENGTH + ")", false);
        }
    }

    private static String withoutUnderscores(String value, int start) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = start; i < value.length(); i++) {
            if (value.charAt(i) != '_') {
                out.append(value.charAt(i));
            }
        }
        return out.toString();
    }
}
