package dev.aegis.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One value of a configuration file as {@link YamlTree} reads it. Scalars are typed when read,
 * by the YAML 1.1 rules the loader has always applied: {@code yes} and {@code on} are booleans,
 * {@code 0x10} is the whole number 16, {@code 1.5} a decimal, {@code ~} and an empty value null,
 * and a quoted scalar is always text ({@code "5"} is not {@code 5}).
 */
sealed interface YamlNode {

    /** A map; keys in file order. Aliases share one instance, so it is never modified once read. */
    record Mapping(Map<String, YamlNode> entries) implements YamlNode {
        public Mapping {
            entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        }
    }

    record Sequence(List<YamlNode> elements) implements YamlNode {
        public Sequence {
            elements = List.copyOf(elements);
        }
    }

    record Text(String value) implements YamlNode {
    }

    record WholeNumber(BigInteger value) implements YamlNode {
    }

    /** A number written with a fraction or an exponent ({@code 1.0} stays a decimal). */
    record Decimal(BigDecimal value) implements YamlNode {
    }

    record Bool(boolean value) implements YamlNode {
    }

    /** A {@code !!binary} scalar: no setting takes one, so only its kind is kept, for messages. */
    record Binary() implements YamlNode {
    }

    /** {@code ~}, {@code null} or nothing after the colon. */
    record Null() implements YamlNode {
    }
}
