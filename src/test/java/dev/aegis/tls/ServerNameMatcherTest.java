package dev.aegis.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.tls.ServerNameMatcher.Duplicate;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ServerNameMatcherTest {

    /** The routes of SPEC §10. */
    private static final List<List<String>> SPEC_ROUTES = List.of(
            List.of("api.example.com", "*.internal.example.com"),
            List.of("db.example.com"));

    @ParameterizedTest
    @CsvSource({
        "api.example.com, 0",
        "API.Example.COM, 0",
        "x.internal.example.com, 0",
        "X-1.Internal.Example.Com, 0",
        "internal.example.com, -1",
        "a.b.internal.example.com, -1",
        "db.example.com, 1",
        "other.example.com, -1",
        "example.com, -1",
        "com, -1",
    })
    void picksTheRoutesOfTheSpecExample(String name, int route) {
        assertEquals(route, ServerNameMatcher.of(SPEC_ROUTES).lookup(name));
    }

    @Test
    void anExactNameWinsOverAWildcardOfAnEarlierRoute() {
        ServerNameMatcher matcher = ServerNameMatcher.of(List.of(List.of("*.w.test"), List.of("a.w.test")));

        assertEquals(1, matcher.lookup("a.w.test"));
        assertEquals(0, matcher.lookup("b.w.test"));
        assertEquals(-1, matcher.lookup("w.test"));
        assertEquals(-1, matcher.lookup("a.b.w.test"));
    }

    @Test
    void aWildcardCoversExactlyOneLabelEvenWhenAnotherCoversTheParent() {
        ServerNameMatcher matcher = ServerNameMatcher.of(List.of(List.of("*.w.test"), List.of("*.b.w.test")));

        assertEquals(0, matcher.lookup("b.w.test"));
        assertEquals(1, matcher.lookup("a.b.w.test"));
        assertEquals(-1, matcher.lookup("z.a.b.w.test"));
    }

    @Test
    void oddNamesMatchNothing() {
        ServerNameMatcher matcher = ServerNameMatcher.of(List.of(List.of("*.w.test", "w.test")));

        assertEquals(-1, matcher.lookup(""));
        assertEquals(-1, matcher.lookup(".w.test"));
        assertEquals(-1, matcher.lookup("*.w.test.x"));
        assertEquals(-1, matcher.lookup("w.test."));
        assertEquals(-1, ServerNameMatcher.of(List.of()).lookup("a.test"));
    }

    @Test
    void everyNameTheParserReturnsCanBeLookedUp() {
        byte[] hello = Hellos.jdk("TLSv1.3", "Db.Example.com", true);
        ClientHelloResult result = ClientHelloParser.parse(hello, 0, hello.length);

        assertEquals(1, ServerNameMatcher.of(SPEC_ROUTES).lookup(((ClientHelloResult.Sni) result).name()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"api.example.com", "*.internal.example.com", "localhost", "*.test", "_sip._tcp.x.test",
            "X-1.Example.COM", "xn--bcher-kva.example"})
    void acceptsNamesAndOneLeadingWildcardLabel(String pattern) {
        assertEquals(Optional.empty(), ServerNameMatcher.problem(pattern));
    }

    @Test
    void explainsWhatIsWrongWithAPattern() {
        String star = "has a '*' other than one leading \"*.\" label (\"*.example.com\")";
        String ip = "looks like an IP address (its last label is all digits); clients send host names only (RFC 6066 §3)";
        assertProblem("", "is empty");
        assertProblem("*", star);
        assertProblem("*a.test", star);
        assertProblem("a.*.test", star);
        assertProblem("*.*.test", star);
        assertProblem("*.", "after \"*.\" is empty");
        assertProblem("*..a.test", "after \"*.\" starts with a dot");
        assertProblem("a..test", "has an empty label (two dots in a row)");
        assertProblem(".a.test", "starts with a dot");
        assertProblem("a.test.", "ends with a dot");
        assertProblem("a b.test", "has the character ' ' (allowed: letters, digits, '-', '_' and '.')");
        assertProblem("a.test:443", "has the character ':' (allowed: letters, digits, '-', '_' and '.')");
        assertProblem("10.0.1.1", ip);
        assertProblem("*.10.0.1", ip);
    }

    private static void assertProblem(String pattern, String problem) {
        assertEquals(Optional.of(problem), ServerNameMatcher.problem(pattern), pattern);
    }

    @Test
    void refusesNamesTooLongForDns() {
        assertEquals(Optional.of("has a label longer than 63 characters"),
                ServerNameMatcher.problem("a".repeat(64) + ".test"));
        assertEquals(Optional.of("is longer than 253 characters"),
                ServerNameMatcher.problem(("a".repeat(62) + ".").repeat(4) + "ab"));
        assertEquals(Optional.of("has the character U+00E9 (allowed: letters, digits, '-', '_' and '.')"),
                ServerNameMatcher.problem("caf\u00e9.test"));
        assertEquals(Optional.of("is missing"), ServerNameMatcher.problem(null));
    }

    @Test
    void findsPatternsWrittenTwiceInAnyCase() {
        List<List<String>> routes = List.of(
                List.of("a.test", "*.w.test"),
                List.of("A.TEST"),
                List.of("*.W.test", "b.test", "b.test"));

        assertEquals(List.of(
                new Duplicate(1, 0, 0, 0, "a.test"),
                new Duplicate(2, 0, 0, 1, "*.w.test"),
                new Duplicate(2, 2, 2, 1, "b.test")), ServerNameMatcher.duplicates(routes));
        assertEquals(List.of(), ServerNameMatcher.duplicates(SPEC_ROUTES));
        // an exact name under a wildcard is no duplicate: it is how one name leaves the wildcard's route
        assertEquals(List.of(), ServerNameMatcher.duplicates(List.of(List.of("*.w.test"), List.of("a.w.test"))));
    }

    @Test
    void refusesToBuildFromInvalidOrDuplicatePatterns() {
        IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
                () -> ServerNameMatcher.of(List.of(List.of("a.test", "a..test"))));
        assertTrue(invalid.getMessage().contains("a..test"), invalid.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> ServerNameMatcher.of(List.of(List.of("a.test"), List.of("A.test"))));
        assertTrue(twice.getMessage().contains("a.test"), twice.getMessage());
    }
}
