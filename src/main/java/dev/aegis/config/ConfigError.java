package dev.aegis.config;

/**
 * One problem found in a configuration file.
 *
 * @param path    where: the YAML path of the field ({@code proxy.backends[1].address}), or
 *                {@link #FILE} for a problem with the file as a whole (unreadable, not YAML, empty)
 * @param message what is wrong, for the operator: names the offending value and what is expected
 */
public record ConfigError(String path, String message) {

    /** The path of errors about the whole file rather than one field. */
    public static final String FILE = "(file)";

    /** {@code path: message}, e.g. {@code proxy.backends[1].address: port 70000 out of range (1-65535)}. */
    @Override
    public String toString() {
        return path + ": " + message;
    }
}
