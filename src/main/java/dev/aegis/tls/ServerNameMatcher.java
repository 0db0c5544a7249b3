package dev.aegis.tls;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Picks the TLS route for a server name (SPEC §10). Routes are numbered in the order given; each
 * has a list of patterns, each an exact name ({@code api.example.com}) or a wildcard of exactly one
 * leading label ({@code *.internal.example.com}). Names compare case-insensitively.
 *
 * <p>{@link #lookup} tries the exact names first, then the wildcard for the name without its first
 * label: {@code *.w.test} matches {@code a.w.test}, not {@code w.test} and not {@code a.b.w.test}
 * (as in RFC 6125 §6.4.3 and nginx). A pattern may appear in one route only, so the answer never
 * depends on route order. Immutable and safe to share between threads.
 */
public final class ServerNameMatcher {

    private static final String WILDCARD = "*.";

    /** Lower-cased exact name -> route. */
    private final Map<String, Integer> exact;
    /** Lower-cased name after the {@code *.} -> route. */
    private final Map<String, Integer> wildcard;

    private ServerNameMatcher(Map<String, Integer> exact, Map<String, Integer> wildcard) {
        this.exact = exact;
        this.wildcard = wildcard;
    }

    /**
     * Builds the matcher; the config loader has already reported bad patterns and duplicates with
     * their paths ({@link #problem}, {@link #duplicates}), so here they are a programming error.
     *
     * @param serverNamesPerRoute the {@code server_names} of each route, route 0 first
     * @throws IllegalArgumentException for an invalid or duplicate pattern
     */
    public static ServerNameMatcher of(List<List<String>> serverNamesPerRoute) {
        List<Duplicate> duplicates = duplicates(serverNamesPerRoute);
        if (!duplicates.isEmpty()) {
            throw new IllegalArgumentException("server name " + duplicates.get(0).name() + " in two places");
        }
        Map<String, Integer> exact = new HashMap<>();
        Map<String, Integer> wildcard = new HashMap<>();
        for (int route = 0; route < serverNamesPerRoute.size(); route++) {
            for (String pattern : serverNamesPerRoute.get(route)) {
                Optional<String> problem = problem(pattern);
                if (problem.isPresent()) {
                    throw new IllegalArgumentException("server name \"" + pattern + "\" " + problem.get());
                }
                String key = normalize(pattern);
                if (key.startsWith(WILDCARD)) {
                    wildcard.put(key.substring(WILDCARD.length()), route);
                } else {
                    exact.put(key, route);
                }
            }
        }
        return new ServerNameMatcher(Map.copyOf(exact), Map.copyOf(wildcard));
    }

    /**
     * The route for a server name, as {@link ClientHelloParser} returns it (lower-case already; other
     * case is lower-cased here at the cost of a copy).
     *
     * @return the index of the route, or -1 when no pattern matches
     */
    public int lookup(String serverName) {
        String name = serverName.toLowerCase(Locale.ROOT); // the same String when already lower case
        Integer route = exact.get(name);
        if (route != null) {
            return route;
        }
        int dot = name.indexOf('.');
        if (dot <= 0 || wildcard.isEmpty()) {
            return -1; // no first label to stand for the "*"
        }
        route = wildcard.get(name.substring(dot + 1));
        return route != null ? route : -1;
    }

    /**
     * Whether a {@code server_names} entry is usable, for the config loader to report with its
     * path: {@code tls_routes[0].server_names[1]: "a..b" has an empty label (two dots in a row)}.
     *
     * @return empty when valid, else what is wrong (a sentence that follows the quoted pattern)
     */
    public static Optional<String> problem(String pattern) {
        if (pattern == null) {
            return Optional.of("is missing");
        }
        boolean isWildcard = pattern.startsWith(WILDCARD);
        String name = isWildcard ? pattern.substring(WILDCARD.length()) : pattern;
        if (name.indexOf('*') >= 0) {
            return Optional.of("has a '*' other than one leading \"*.\" label (\"*.example.com\")");
        }
        String nameProblem = DnsNames.problem(name);
        if (nameProblem != null) {
            return Optional.of(isWildcard ? "after \"*.\" " + nameProblem : nameProblem);
        }
        if (lastLabelIsNumeric(name)) {
            return Optional.of("looks like an IP address (its last label is all digits); clients send host names only"
                    + " (RFC 6066 §3)");
        }
        return Optional.empty();
    }

    /** The form two patterns are compared in: lower case ({@code *.A.test} and {@code *.a.test} are one). */
    public static String normalize(String pattern) {
        return pattern.toLowerCase(Locale.ROOT);
    }

    /**
     * A pattern written a second time, in the same route or another one.
     *
     * @param route      index of the route with the repeat
     * @param index      index of the repeat in that route's {@code server_names}
     * @param firstRoute index of the route where the pattern first appears
     * @param firstIndex its index there
     * @param name       the pattern, normalized ({@link #normalize})
     */
    public record Duplicate(int route, int index, int firstRoute, int firstIndex, String name) {
    }

    /**
     * Every repeated pattern (after {@link #normalize}), in the order of the lists; invalid and
     * null patterns are left to {@link #problem}.
     */
    public static List<Duplicate> duplicates(List<List<String>> serverNamesPerRoute) {
        Map<String, int[]> seen = new HashMap<>();
        List<Duplicate> found = new ArrayList<>();
        for (int route = 0; route < serverNamesPerRoute.size(); route++) {
            List<String> names = serverNamesPerRoute.get(route);
            for (int index = 0; index < names.size(); index++) {
                String pattern = names.get(index);
                if (pattern == null) {
                    continue;
                }
                String key = normalize(pattern);
                int[] first = seen.putIfAbsent(key, new int[] {route, index});
                if (first != null) {
                    found.add(new Duplicate(route, index, first[0], first[1], key));
                }
            }
        }
        return List.copyOf(found);
    }

    /** A top-level domain is never all digits (RFC 3696 §2), so such a name is an IPv4 address. */
    private static boolean lastLabelIsNumeric(String name) {
        int i = name.length() - 1;
        while (i >= 0 && name.charAt(i) != '.') {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
            i--;
        }
        return true;
    }

    @Override
    public String toString() {
        return "ServerNameMatcher[exact=" + exact + ", wildcard=" + wildcard + "]";
    }
}
