package dev.aegis.json;

/** Text that is not the JSON {@link JsonReader} accepts; the message names what and where. */
public final class JsonException extends Exception {

    private final int offset;

    JsonException(String problem, int offset) {
        super(problem + " at offset " + offset, null, false, false); // an answer to bad input: no stack trace
        this.offset = offset;
    }

    /** The index of the character (for bytes that are not UTF-8: of the byte) where reading stopped. */
    public int offset() {
        return offset;
    }
}
