package dev.aegis.config;

import java.util.List;
import java.util.Locale;

/** Builds the message for an unknown key, pointing at the known key the operator probably meant. */
final class KeySuggestions {

    private KeySuggestions() {
    }

    static String unknownKeyMessage(String key, List<String> knownKeys) {
        String closest = closest(key, knownKeys);
        if (closest != null) {
            return "unknown key (did you mean \"" + closest + "\"?)";
        }
        return "unknown key (expected one of: " + String.join(", ", knownKeys) + ")";
    }

    /** The known key at edit distance at most 2 (ignoring case, '_' and '-'), or null. */
    private static String closest(String key, List<String> knownKeys) {
        String wanted = normalize(key);
        if (wanted.length() > 64) {
            return null;
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : knownKeys) {
            int distance = distance(wanted, normalize(known));
            if (distance < bestDistance) {
                best = known;
                bestDistance = distance;
            }
        }
        int allowed = Math.min(2, wanted.length() / 3);
        return bestDistance <= allowed ? best : null;
    }

    /** camelCase, kebab-case and snake_case spellings of one name compare equal. */
    private static String normalize(String key) {
        return key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Levenshtein distance; keys are short, so the quadratic table is fine. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
