package dev.aegis.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

    @Test
    void writesScalarsCompactly() {
        assertEquals("null", JsonWriter.write(null));
        assertEquals("true", JsonWriter.write(true));
        assertEquals("2", JsonWriter.write(2));
        assertEquals("-9223372036854775808", JsonWriter.write(Long.MIN_VALUE));
        assertEquals("123456789012345678901234567890", JsonWriter.write(new BigInteger("123456789012345678901234567890")));
        assertEquals("2.5", JsonWriter.write(2.5));
        assertEquals("1.0E20", JsonWriter.write(1e20));
        assertEquals("0.25", JsonWriter.write(new BigDecimal("0.25")));
        assertEquals("\"NaN\"", JsonWriter.write(Double.NaN), "no JSON number for NaN: a string, as Jackson wrote it");
    }

    @Test
    void keepsTheOrderOfMapsAndNestsContainers() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("z", 1);
        inner.put("a", Arrays.asList(true, null, "x"));
        Map<String, Object> outer = new LinkedHashMap<>();
        outer.put("generation", 2);
        outer.put("inner", inner);
        outer.put("empty", Map.of());
        outer.put("none", List.of());
        assertEquals("{\"generation\":2,\"inner\":{\"z\":1,\"a\":[true,null,\"x\"]},\"empty\":{},\"none\":[]}",
                JsonWriter.write(outer));
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertEquals("\"a\\\"b\\\\c/d\"", JsonWriter.write("a\"b\\c/d"));
        assertEquals("\"\\b\\f\\n\\r\\t\\u0000\\u001F\u007f\"", JsonWriter.write("\b\f\n\r\t\u0000\u001f\u007f"));
    }

    @Test
    void writesUnicodeAsIsButEscapesLoneSurrogates() {
        assertEquals("\"é€😀\"", JsonWriter.write("é€😀"));
        assertEquals("\"a\\uD800b\\uDC00\"", JsonWriter.write("a\uD800b\uDC00"));
    }

    @Test
    void escapesKeysToo() {
        assertEquals("{\"a\\nb\":1}", JsonWriter.write(Map.of("a\nb", 1)));
    }

    @Test
    void refusesValuesWithoutAJsonForm() {
        assertThrows(IllegalArgumentException.class, () -> JsonWriter.write(new Object()));
    }

    @Test
    void whatItWritesReadsBack() throws JsonException {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("text", "tab\there \"quoted\" \u0001 ü 😀");
        value.put("whole", 42L);
        value.put("fraction", 0.5);
        value.put("flag", false);
        value.put("nothing", null);
        value.put("list", List.of(1L, List.of(), Map.of("k", "v")));
        assertEquals(value, JsonReader.parse(JsonWriter.write(value)));
    }
}
