package dev.aegis.config;

import java.util.ArrayList;
import java.util.List;

/** The errors and warnings of one load, collected as the file is read so all are reported at once. */
final class Findings {

    private final List<ConfigError> errors = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    /** @param path a YAML path, or empty for the file as a whole */
    void error(String path, String message) {
        errors.add(new ConfigError(path.isEmpty() ? ConfigError.FILE : path, message));
    }

    void warn(String path, String message) {
        warnings.add((path.isEmpty() ? ConfigError.FILE : path) + ": " + message);
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    List<ConfigError> errors() {
        return List.copyOf(errors);
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }
}
