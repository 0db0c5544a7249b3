package dev.aegis.tls;

/**
 * The one definition of a host name that both the ClientHello parser (the name a client sends)
 * and the route patterns (the names an operator writes) use, so a name the parser returns can
 * always be written as a route, and the other way round.
 *
 * <p>A name is 1-253 characters in labels of 1-63 separated by single dots, each character an
 * ASCII letter, digit, {@code -} or {@code _}. Underscores are not in the hostname rule of RFC 952/
 * 1123 but do occur in real names (service labels, some internal hosts), and refusing them would
 * only send those clients to the default pool; where a hyphen stands is not checked for the same
 * reason. No trailing dot: RFC 6066 §3 sends the name without one (the parser removes one that a
 * client sends anyway before it gets here).
 */
final class DnsNames {

    /** Longest name without a trailing dot (RFC 1035: 255 octets on the wire). */
    static final int MAX_LENGTH = 253;
    static final int MAX_LABEL = 63;

    static final int OK = 0;
    private static final int EMPTY = 1;
    private static final int TOO_LONG = 2;
    private static final int LEADING_DOT = 3;
    private static final int EMPTY_LABEL = 4;
    private static final int TRAILING_DOT = 5;
    private static final int LONG_LABEL = 6;
    private static final int BAD_CHARACTER = 7;

    private DnsNames() {
    }

    /** @return true when {@code name} is a host name as above (allocates nothing) */
    static boolean isHostName(CharSequence name) {
        return check(name) == OK;
    }

    /** @return null when {@code name} is a host name as above, else why not, for an operator */
    static String problem(CharSequence name) {
        return switch (check(name)) {
            case OK -> null;
            case EMPTY -> "is empty";
            case TOO_LONG -> "is longer than " + MAX_LENGTH + " characters";
            case LEADING_DOT -> "starts with a dot";
            case EMPTY_LABEL -> "has an empty label (two dots in a row)";
            case TRAILING_DOT -> "ends with a dot";
            case LONG_LABEL -> "has a label longer than " + MAX_LABEL + " characters";
            default -> "has the character " + describe(firstBadCharacter(name))
                    + " (allowed: letters, digits, '-', '_' and '.')";
        };
    }

    private static int check(CharSequence name) {
        int length = name.length();
        if (length == 0) {
            return EMPTY;
        }
        if (length > MAX_LENGTH) {
            return TOO_LONG;
        }
        int label = 0;
        for (int i = 0; i < length; i++) {
            char c = name.charAt(i);
            if (c == '.') {
                if (label == 0) {
                    return i == 0 ? LEADING_DOT : EMPTY_LABEL;
                }
                label = 0;
            } else if (isNameChar(c)) {
                if (++label > MAX_LABEL) {
                    return LONG_LABEL;
                }
            } else {
                return BAD_CHARACTER;
            }
        }
        return label == 0 ? TRAILING_DOT : OK;
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    private static char firstBadCharacter(CharSequence name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != '.' && !isNameChar(c)) {
                return c;
            }
        }
        return '?';
    }

    private static String describe(char c) {
        return c >= ' ' && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }
}
