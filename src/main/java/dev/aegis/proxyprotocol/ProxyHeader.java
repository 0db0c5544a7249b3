package dev.aegis.proxyprotocol;

import java.net.InetSocketAddress;

/**
 * One decoded PROXY protocol header (HAProxy's specification, v1 text line or v2 binary block).
 *
 * @param version     1 (text line) or 2 (binary)
 * @param command     {@code PROXY} (relayed: the addresses are the original endpoints) or {@code LOCAL}
 *                    (the sender's own connection, e.g. a health check: the real endpoints apply)
 * @param transport   TCP (v1 {@code TCP4}/{@code TCP6}, v2 {@code STREAM}), UDP (v2 {@code DGRAM}) or
 *                    UNSPEC (v1 {@code UNKNOWN}, v2 unspecified)
 * @param family      the address family as announced (v1 {@code UNKNOWN} is UNSPEC)
 * @param source      the original client; null when the header carries no usable address
 *                    ({@code LOCAL}, {@code UNKNOWN}, UNSPEC family or transport, UNIX). An IPv4-mapped
 *                    IPv6 address ({@code ::ffff:a.b.c.d}) comes back as an {@code Inet4Address}, as
 *                    everywhere in the JDK
 * @param destination the address the client connected to; null exactly when {@code source} is
 * @param length      the bytes the header takes at the start of the input (v1: up to and including
 *                    CRLF; v2: 16 + its length field, TLVs included): the payload starts after them
 */
public record ProxyHeader(int version, Command command, Transport transport, Family family,
        InetSocketAddress source, InetSocketAddress destination, int length) {

    /** The longest v1 line a receiver must accept, CRLF included ("PROXY UNKNOWN" + two IPv6 + ports). */
    public static final int V1_MAX_LENGTH = 107;
    /** The fixed part of a v2 header: signature, version/command, family/transport, length. */
    public static final int V2_FIXED_LENGTH = 16;
    /** The longest v2 header: the fixed part plus the largest 16-bit length. */
    public static final int V2_MAX_LENGTH = V2_FIXED_LENGTH + 0xFFFF;
    /** The shortest complete header of either version: {@code "PROXY UNKNOWN\r\n"}. */
    public static final int MIN_LENGTH = 15;

    /** v2 commands; a v1 line is always PROXY. */
    public enum Command { LOCAL, PROXY }

    /** The proxied transport. */
    public enum Transport { TCP, UDP, UNSPEC }

    /** The proxied address family. */
    public enum Family { INET, INET6, UNIX, UNSPEC }

    /**
     * The client this header stands for: its source when it has one, else the real sender
     * ({@code LOCAL} and {@code UNKNOWN} headers mean "use the connection's own endpoints", SPEC §10).
     */
    public InetSocketAddress clientOr(InetSocketAddress peer) {
        return source != null ? source : peer;
    }
}
