package dev.aegis.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration was rejected. Carries every problem found, never only the first, so that an
 * operator fixes the file in one go; {@link #getMessage()} lists them one per line.
 */
public final class ConfigException extends Exception {

    private final List<ConfigError> errors;

    /** @param errors at least one */
    public ConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** Every problem found, section by section in the order of SPEC §3, unresolvable hosts last. */
    public List<ConfigError> errors() {
        return errors;
    }
}
