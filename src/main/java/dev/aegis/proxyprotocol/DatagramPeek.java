package dev.aegis.proxyprotocol;

import java.nio.ByteBuffer;

/**
 * An allocation-free reading of the v2 PROXY header a datagram starts with, for a UDP reader
 * thread that sees every datagram: the same checks as {@link ProxyHeaderParser#parseDatagram},
 * but the client's address lands in this reused, mutable holder instead of a new
 * {@link ProxyHeader}. One instance per reader thread; not thread-safe.
 */
public final class DatagramPeek {

    /** The datagram does not start with a v2 signature. */
    public static final int NOT_PROXY = -1;
    /** It starts with one, but the header is malformed or truncated. */
    public static final int INVALID = -2;

    final byte[] address = new byte[16];
    int addressLength;
    int port;

    /**
     * Reads the header at {@code datagram}'s position without moving it.
     *
     * @return the header's length in bytes (the payload follows), or {@link #NOT_PROXY} or
     *         {@link #INVALID}
     */
    public int peek(ByteBuffer datagram) {
        return ProxyHeaderParser.peekDatagram(datagram, this);
    }

    /**
     * The source address bytes of the last header read: 4 (IPv4) or 16 (IPv6); 0 when it names
     * no client (LOCAL, UNSPEC, UNIX): the sender is the client.
     */
    public int addressLength() {
        return addressLength;
    }

    /** The live buffer of the source address ({@link #addressLength()} bytes count); do not keep it. */
    public byte[] address() {
        return address;
    }

    public int port() {
        return port;
    }
}
