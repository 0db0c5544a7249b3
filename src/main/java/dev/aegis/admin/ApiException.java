package dev.aegis.admin;

import java.util.List;

/**
 * A request the API refuses: the status and the message of the JSON error body
 * ({@code {"error": message}}), plus the individual problems when there are several.
 */
final class ApiException extends RuntimeException {

    private final int status;
    private final List<String> errors;

    ApiException(int status, String message) {
        this(status, message, List.of());
    }

    ApiException(int status, String message, List<String> errors) {
        super(message, null, false, false); // an answer, not a bug: no stack trace
        this.status = status;
        this.errors = List.copyOf(errors);
    }

    int status() {
        return status;
    }

    List<String> errors() {
        return errors;
    }
}
