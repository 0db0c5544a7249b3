package dev.aegis.config;

import java.util.List;

/**
 * A configuration that passed validation, with what the operator should still hear about.
 *
 * @param config   the validated, immutable configuration
 * @param warnings {@code path: message} lines for accepted-but-ignored or suspicious settings
 *                 (for example the original's {@code grpc:} section); to be logged at WARN
 */
public record LoadedConfig(AegisConfig config, List<String> warnings) {

    public LoadedConfig {
        warnings = List.copyOf(warnings);
    }
}
