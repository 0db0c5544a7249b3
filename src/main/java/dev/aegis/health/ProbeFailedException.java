package dev.aegis.health;

import java.io.IOException;

/** The backend answered, but not as a healthy one would (bad HTTP status, garbage status line). */
final class ProbeFailedException extends IOException {

    ProbeFailedException(String reason) {
        super(reason);
    }
}
