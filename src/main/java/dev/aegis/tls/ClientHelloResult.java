package dev.aegis.tls;

/**
 * What {@link ClientHelloParser#parse} made of the bytes a client has sent so far. Exactly one of
 * five outcomes; only {@link NeedMore} asks the caller to read more and parse again (from the first
 * byte: the parser keeps no state).
 */
public sealed interface ClientHelloResult
        permits ClientHelloResult.NeedMore, ClientHelloResult.Sni, ClientHelloResult.NoSni,
                ClientHelloResult.NotTls, ClientHelloResult.Invalid {

    /** The one {@link NeedMore}. */
    NeedMore NEED_MORE = new NeedMore();
    /** The one {@link NoSni}. */
    NoSni NO_SNI = new NoSni();
    /** The one {@link NotTls}. */
    NotTls NOT_TLS = new NotTls();

    /**
     * The bytes so far are a valid beginning of TLS handshake records whose ClientHello is not
     * complete yet (this includes no bytes at all: nothing can be said about them).
     */
    record NeedMore() implements ClientHelloResult {
    }

    /**
     * A complete, well-formed ClientHello with a server_name extension.
     *
     * @param name its host_name: lower-case ASCII, a DNS name (letters, digits, {@code -},
     *             {@code _}, labels of 1-63 characters, at most 253 in all), one trailing dot removed
     */
    record Sni(String name) implements ClientHelloResult {
    }

    /** A complete, well-formed ClientHello without a host_name in a server_name extension. */
    record NoSni() implements ClientHelloResult {
    }

    /**
     * The first bytes are not a TLS handshake record (content type 22, version 3.0 to 3.4): some
     * other protocol (HTTP, SSH, SMTP), or an SSLv2-compatible hello, which no client has sent by
     * default since about 2010 and which cannot carry a server name anyway.
     */
    record NotTls() implements ClientHelloResult {
    }

    /**
     * Starts like TLS but is not a usable ClientHello: inconsistent lengths, another handshake
     * message, a bad extension block or server name, or larger than {@link ClientHelloParser#MAX_BYTES}.
     *
     * @param reason a short, fixed phrase (few distinct values: fit for a log line or a counter)
     */
    record Invalid(String reason) implements ClientHelloResult {
    }
}
