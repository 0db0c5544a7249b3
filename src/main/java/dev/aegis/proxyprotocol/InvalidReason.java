package dev.aegis.proxyprotocol;

/**
 * Why bytes that start like a PROXY header are not a valid one. The labels are stable: they go into
 * logs and metric labels.
 */
public enum InvalidReason {
    /** v2: the version nibble is not 2. */
    BAD_VERSION("bad_version"),
    /** v2: the command nibble is neither LOCAL (0) nor PROXY (1). */
    BAD_COMMAND("bad_command"),
    /** v1: the protocol is not TCP4, TCP6 or UNKNOWN; v2: the family nibble is above 3 (UNIX). */
    BAD_FAMILY("bad_family"),
    /** v2: the transport nibble is above 2 (DGRAM). */
    BAD_TRANSPORT("bad_transport"),
    /** v2: the length field is shorter than the address block of the announced family. */
    BAD_LENGTH("bad_length"),
    /** v2: the bytes after the address block are not a whole sequence of TLVs. */
    BAD_TLV("bad_tlv"),
    /** v2: a CRC32C TLV does not match the header. */
    BAD_CHECKSUM("bad_checksum"),
    /** v1: spaces, fields or line end not exactly as specified (double space, lone CR or LF, missing field). */
    BAD_SYNTAX("bad_syntax"),
    /** v1: an address that is not a canonical literal of the announced family. */
    BAD_ADDRESS("bad_address"),
    /** v1: a port that is not a decimal 0-65535 without sign or leading zero. */
    BAD_PORT("bad_port"),
    /** v1: no CRLF within the first 107 bytes. */
    TOO_LONG("too_long"),
    /** A datagram that ends before its header does. */
    TRUNCATED("truncated");

    private final String label;
    private final ParseResult.Invalid result;

    InvalidReason(String label) {
        this.label = label;
        this.result = new ParseResult.Invalid(this);
    }

    public String label() {
        return label;
    }

    /** The one shared result for this reason: rejecting allocates nothing. */
    ParseResult.Invalid result() {
        return result;
    }
}
