package dev.aegis.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonReaderTest {

    @Test
    void readsObjectsInDocumentOrder() throws JsonException {
        Object value = JsonReader.parse(" {\"b\": 1, \"a\": [true, false, null], \"c\": {}} \n");
        Map<?, ?> map = assertInstanceOf(Map.class, value);
        assertEquals(List.of("b", "a", "c"), List.copyOf(map.keySet()));
        assertEquals(Arrays.asList(true, false, null), map.get("a"));
        assertEquals(Map.of(), map.get("c"));
    }

    @Test
    void wholeNumbersAreLongsOrBigIntegersAndTheRestDoubles() throws JsonException {
        assertEquals(100L, JsonReader.parse("100"));
        assertEquals(-0L, JsonReader.parse("-0"));
        assertEquals(Long.MAX_VALUE, JsonReader.parse("9223372036854775807"));
        assertEquals(new BigInteger("9223372036854775808"), JsonReader.parse("9223372036854775808"));
        assertEquals(1.0, JsonReader.parse("1.0"));
        assertEquals(100.0, JsonReader.parse("1e2"));
        assertEquals(-0.025, JsonReader.parse("-2.5E-2"));
    }

    @Test
    void readsEveryEscape() throws JsonException {
        assertEquals("\"\\/\b\f\n\r\té😀", JsonReader.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\""));
        assertEquals("ü", JsonReader.parse("\"ü\""));
    }

    @Test
    void readsUtf8Bytes() throws JsonException {
        assertEquals(Map.of("k", "é"), JsonReader.parse("{\"k\":\"é\"}".getBytes(StandardCharsets.UTF_8)));
        JsonException e = assertThrows(JsonException.class,
                () -> JsonReader.parse(new byte[] {'"', (byte) 0xE9, '"'}));
        assertEquals("invalid UTF-8 at offset 1", e.getMessage());
    }

    @Test
    void rejectsMalformedInputNamingWhereItStopped() {
        assertRejected("", "unexpected end of input, expected a value at offset 0");
        assertRejected("   ", "unexpected end of input, expected a value at offset 3");
        assertRejected("{\"address\": ", "unexpected end of input, expected a value at offset 12");
        assertRejected("[1, 2", "unexpected end of input, expected ']' at offset 5");
        assertRejected("[1, 2,]", "unexpected ']', expected a value at offset 6");
        assertRejected("{\"a\": 1,}", "unexpected '}', expected a key in quotes at offset 8");
        assertRejected("{a: 1}", "unexpected 'a', expected a key in quotes at offset 1");
        assertRejected("{\"a\" 1}", "unexpected '1', expected ':' at offset 5");
        assertRejected("'a'", "unexpected ''', expected a value at offset 0");
        assertRejected("\"abc", "unexpected end of input inside a string at offset 4");
        assertRejected("\"a\\x\"", "invalid escape \\x at offset 2");
        assertRejected("\"\\u12g4\"", "invalid \\u escape (four hex digits expected) at offset 1");
        assertRejected("\"\\u12\"", "invalid \\u escape (four hex digits expected) at offset 1");
        assertRejected("\"a\nb\"", "control character U+000A inside a string (escape it) at offset 2");
        assertRejected("tru", "unexpected 't', expected a value at offset 0");
        assertRejected("nul1", "unexpected 'n', expected a value at offset 0");
        assertRejected("01", "a number must not start with 0 at offset 1");
        assertRejected("-", "a number needs a digit after '-' at offset 1");
        assertRejected("1.", "a number needs a digit after '.' at offset 2");
        assertRejected(".5", "unexpected '.', expected a value at offset 0");
        assertRejected("1e", "a number needs a digit in its exponent at offset 2");
        assertRejected("+1", "unexpected '+', expected a value at offset 0");
        assertRejected("NaN", "unexpected 'N', expected a value at offset 0");
        assertRejected("// c\n1", "unexpected '/', expected a value at offset 0");
    }

    @Test
    void rejectsAnythingAfterTheValue() {
        assertRejected("{} {}", "unexpected '{' after the value at offset 3");
        assertRejected("{\"a\":1}}", "unexpected '}' after the value at offset 7");
        assertRejected("1 2", "unexpected '2' after the value at offset 2");
        assertRejected("true\u0000", "unexpected character U+0000 after the value at offset 4");
    }

    @Test
    void rejectsADuplicateKey() {
        assertRejected("{\"address\":\"a:1\",\"address\":\"a:2\"}", "duplicate key \"address\" at offset 17");
    }

    @Test
    void limitsNesting() throws JsonException {
        String ok = "[".repeat(JsonReader.MAX_DEPTH) + "]".repeat(JsonReader.MAX_DEPTH);
        assertEquals(1, ((List<?>) JsonReader.parse(ok)).size());
        assertRejected("[".repeat(JsonReader.MAX_DEPTH + 1) + "]".repeat(JsonReader.MAX_DEPTH + 1),
                "nested deeper than 64 levels at offset 64");
        JsonException e = assertThrows(JsonException.class, () -> JsonReader.parse("{\"a\":".repeat(100_000)));
        assertTrue(e.getMessage().startsWith("nested deeper than 64 levels"), e.getMessage());
    }

    @Test
    void nullIsAValue() throws JsonException {
        assertNull(JsonReader.parse("null"));
    }

    private static void assertRejected(String text, String message) {
        JsonException e = assertThrows(JsonException.class, () -> JsonReader.parse(text), text);
        assertEquals(message, e.getMessage(), text);
    }
}
