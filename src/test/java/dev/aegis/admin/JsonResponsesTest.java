package dev.aegis.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admin API's answers written without the ObjectMapper are byte for byte what it writes. */
class JsonResponsesTest {

    record Point(int x, String label) {
    }

    private static void assertSameAsMapper(Object body) throws Exception {
        String expected = new String(JsonResponses.mapper().writeValueAsBytes(body), StandardCharsets.UTF_8);
        String actual = new String(JsonResponses.bytes(body), StandardCharsets.UTF_8);
        assertEquals(expected, actual);
    }

    @Test
    void plainBodiesAreWrittenAsTheMapperWritesThem() throws Exception {
        Map<String, Object> backend = new LinkedHashMap<>();
        backend.put("address", "127.0.0.1:9001");
        backend.put("healthy", true);
        backend.put("weight", 100);
        backend.put("bytes", 1L << 40);
        backend.put("latency_ms", 0.125);
        backend.put("ratio", 1.5f);
        backend.put("exact", new BigDecimal("12.50"));
        backend.put("huge", new BigInteger("123456789012345678901234567890"));
        backend.put("not_a_number", Double.NaN);
        backend.put("error", null);
        backend.put("note", "quote \" backslash \\ tab \t newline \n control \u0001 e-acute \u00e9 emoji \uD83D\uDE00 </script>");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("z_first", "keys keep the handler's order");
        body.put("backends", new ArrayList<>(List.of(backend, Map.of())));
        body.put("errors", Arrays.asList("a", null, "c"));
        body.put("empty", List.of());
        assertSameAsMapper(body);
        assertSameAsMapper(JsonResponses.error("no such endpoint: /x", List.of("one", "two")));
    }

    @Test
    void otherValuesAreLeftToTheMapper() throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("record", new Point(1, "a record"));
        body.put("set", new LinkedHashSet<>(List.of("b", "a")));
        body.put("nested", Map.of(1, "an integer key"));
        assertSameAsMapper(body);
        assertSameAsMapper(List.of(Thread.State.NEW, "x"));
    }
}
