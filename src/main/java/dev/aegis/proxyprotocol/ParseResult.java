package dev.aegis.proxyprotocol;

/**
 * What {@link ProxyHeaderParser} made of the bytes seen so far. Exactly one of four outcomes; no
 * input makes the parser throw.
 */
public sealed interface ParseResult
        permits ParseResult.NeedMore, ParseResult.Parsed, ParseResult.NotProxy, ParseResult.Invalid {

    /** A shared instance: the input is not a PROXY header (its signature does not match). */
    NotProxy NOT_PROXY = new NotProxy();

    /**
     * The bytes so far are a valid beginning of a header, which is not complete yet (a stream only:
     * {@link ProxyHeaderParser#parseDatagram} never returns this).
     *
     * @param atLeast how many more bytes the header needs at the very least (1 or more); exact for a
     *                v2 header once its 16 fixed bytes are in, a lower bound for a v1 line
     */
    record NeedMore(int atLeast) implements ParseResult {
        private static final NeedMore[] SMALL = new NeedMore[ProxyHeader.V1_MAX_LENGTH + 1];

        static {
            for (int i = 1; i < SMALL.length; i++) {
                SMALL[i] = new NeedMore(i);
            }
        }

        /** Shared instances for the common small counts: waiting for more allocates nothing. */
        static NeedMore of(int atLeast) {
            int n = Math.max(1, atLeast);
            return n < SMALL.length ? SMALL[n] : new NeedMore(n);
        }
    }

    /** A complete, valid header: the payload starts {@code header.length()} bytes into the input. */
    record Parsed(ProxyHeader header) implements ParseResult {
    }

    /**
     * The input does not start with the v1 {@code "PROXY "} or the v2 12-byte signature (as far as
     * it goes): plain data, not a header.
     */
    record NotProxy() implements ParseResult {
    }

    /** The input starts with a signature but is not a valid header. */
    record Invalid(InvalidReason reason) implements ParseResult {
        /** The stable label of the reason, for logs and metrics. */
        public String label() {
            return reason.label();
        }
    }
}
