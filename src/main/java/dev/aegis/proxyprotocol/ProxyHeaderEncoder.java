package dev.aegis.proxyprotocol;

import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Writes the PROXY protocol header a proxy sends first to a backend: a v1 line ({@code TCP4},
 * {@code TCP6} or {@code UNKNOWN}) or a v2 {@code PROXY} block for TCP ({@code STREAM}) or UDP
 * ({@code DGRAM}).
 *
 * <p>Addresses: an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) counts as IPv4. v1, like
 * HAProxy, writes {@code UNKNOWN} when the two families differ or an address is missing (null or
 * unresolved). v2 writes INET when both are IPv4, else INET6 with an IPv4 address mapped into
 * {@code ::ffff:0:0/96}; with an address missing it writes the UNSPEC family and no address block.
 *
 * <p>The {@code write*} methods put the header at the buffer's position, advance it and return the
 * byte count; they write nothing and throw {@link BufferOverflowException} when the buffer has less
 * room than {@link #V1_ROOM} (v1) or the exact v2 size. For UDP, where every datagram of a session
 * carries the same header, encode it once per session ({@link #v2}) and put those bytes per datagram.
 */
public final class ProxyHeaderEncoder {

    /** Room that always suffices for a v1 line (the longest one written is 104 bytes, TCP6). */
    public static final int V1_ROOM = ProxyHeader.V1_MAX_LENGTH;
    /** Room that always suffices for a v2 header written here (INET6: 16 + 36). */
    public static final int V2_ROOM = ProxyHeader.V2_FIXED_LENGTH + 36;

    private static final byte[] V1_PREFIX = {'P', 'R', 'O', 'X', 'Y', ' '};
    private static final byte[] V1_UNKNOWN = {'U', 'N', 'K', 'N', 'O', 'W', 'N', '\r', '\n'};
    private static final byte[] HEX = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    private static final int VERSION_2_PROXY = 0x21;
    private static final int VERSION_2_LOCAL = 0x20;

    private ProxyHeaderEncoder() {
    }

    /** The v1 line for a TCP connection from {@code source} to {@code destination}. */
    public static int writeV1(InetSocketAddress source, InetSocketAddress destination, ByteBuffer out) {
        if (out.remaining() < V1_ROOM) {
            throw new BufferOverflowException();
        }
        int start = out.position();
        out.put(V1_PREFIX);
        byte[] src = raw(source);
        byte[] dst = raw(destination);
        byte[] src4 = src == null ? null : ipv4(src);
        byte[] dst4 = dst == null ? null : ipv4(dst);
        if (src4 != null && dst4 != null) {
            out.put((byte) 'T').put((byte) 'C').put((byte) 'P').put((byte) '4').put((byte) ' ');
            putIpv4(out, src4);
            out.put((byte) ' ');
            putIpv4(out, dst4);
        } else if (src != null && dst != null && src4 == null && dst4 == null) {
            out.put((byte) 'T').put((byte) 'C').put((byte) 'P').put((byte) '6').put((byte) ' ');
            putIpv6(out, src);
            out.put((byte) ' ');
            putIpv6(out, dst);
        } else {
            out.put(V1_UNKNOWN);
            return out.position() - start;
        }
        out.put((byte) ' ');
        putDecimal(out, source.getPort());
        out.put((byte) ' ');
        putDecimal(out, destination.getPort());
        out.put((byte) '\r').put((byte) '\n');
        return out.position() - start;
    }

    /**
     * The v2 {@code PROXY} header for a connection ({@code TCP}) or datagram flow ({@code UDP}) from
     * {@code source} to {@code destination}; {@code UNSPEC} writes no addresses, like a missing one.
     */
    public static int writeV2(Transport transport, InetSocketAddress source, InetSocketAddress destination,
            ByteBuffer out) {
        byte[] src = transport == Transport.UNSPEC ? null : raw(source);
        byte[] dst = transport == Transport.UNSPEC ? null : raw(destination);
        if (src == null || dst == null) {
            return putV2Fixed(out, VERSION_2_PROXY, 0x00, 0);
        }
        int proto = transport == Transport.TCP ? 0x1 : 0x2;
        byte[] src4 = ipv4(src);
        byte[] dst4 = ipv4(dst);
        int start = out.position();
        if (src4 != null && dst4 != null) {
            ensure(out, ProxyHeader.V2_FIXED_LENGTH + 12);
            putV2Fixed(out, VERSION_2_PROXY, 0x10 | proto, 12);
            out.put(src4).put(dst4);
        } else {
            ensure(out, ProxyHeader.V2_FIXED_LENGTH + 36);
            putV2Fixed(out, VERSION_2_PROXY, 0x20 | proto, 36);
            putIpv6Raw(out, src);
            putIpv6Raw(out, dst);
        }
        putU16(out, source.getPort());
        putU16(out, destination.getPort());
        return out.position() - start;
    }

    /**
     * The v2 {@code LOCAL} header (UNSPEC, no addresses): "this connection is the proxy's own, use
     * its real endpoints".
     */
    public static int writeV2Local(ByteBuffer out) {
        return putV2Fixed(out, VERSION_2_LOCAL, 0x00, 0);
    }

    /** {@link #writeV1} into a new array of the exact size. */
    public static byte[] v1(InetSocketAddress source, InetSocketAddress destination) {
        ByteBuffer buf = ByteBuffer.allocate(V1_ROOM);
        int n = writeV1(source, destination, buf);
        return Arrays.copyOf(buf.array(), n);
    }

    /** {@link #writeV2} into a new array of the exact size. */
    public static byte[] v2(Transport transport, InetSocketAddress source, InetSocketAddress destination) {
        ByteBuffer buf = ByteBuffer.allocate(V2_ROOM);
        int n = writeV2(transport, source, destination, buf);
        return Arrays.copyOf(buf.array(), n);
    }

    private static int putV2Fixed(ByteBuffer out, int versionCommand, int familyTransport, int length) {
        ensure(out, ProxyHeader.V2_FIXED_LENGTH);
        out.put(ProxyHeaderParser.V2_SIGNATURE);
        out.put((byte) versionCommand).put((byte) familyTransport);
        putU16(out, length);
        return ProxyHeader.V2_FIXED_LENGTH;
    }

    private static void ensure(ByteBuffer out, int room) {
        if (out.remaining() < room) {
            throw new BufferOverflowException();
        }
    }

    /** The address bytes (4 or 16), or null when there is no address to tell. */
    private static byte[] raw(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        InetAddress ip = a.getAddress();
        return ip == null ? null : ip.getAddress();
    }

    /** The IPv4 address in {@code raw}, itself or mapped ({@code ::ffff:a.b.c.d}); null if IPv6 proper. */
    private static byte[] ipv4(byte[] raw) {
        if (raw.length == 4) {
            return raw;
        }
        for (int i = 0; i < 10; i++) {
            if (raw[i] != 0) {
                return null;
            }
        }
        if (raw[10] != (byte) 0xFF || raw[11] != (byte) 0xFF) {
            return null;
        }
        return Arrays.copyOfRange(raw, 12, 16);
    }

    private static void putIpv6Raw(ByteBuffer out, byte[] raw) {
        if (raw.length == 16) {
            out.put(raw);
            return;
        }
        for (int i = 0; i < 10; i++) {
            out.put((byte) 0);
        }
        out.put((byte) 0xFF).put((byte) 0xFF).put(raw);
    }

    private static void putU16(ByteBuffer out, int value) {
        out.put((byte) (value >>> 8)).put((byte) value); // big-endian whatever the buffer's order
    }

    private static void putIpv4(ByteBuffer out, byte[] a) {
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                out.put((byte) '.');
            }
            putDecimal(out, a[i] & 0xFF);
        }
    }

    /** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
    private static void putIpv6(ByteBuffer out, byte[] a) {
        int runStart = -1;
        int runLength = 0;
        for (int g = 0; g < 8; ) {
            if (group(a, g) != 0) {
                g++;
                continue;
            }
            int s = g;
            while (g < 8 && group(a, g) == 0) {
                g++;
            }
            if (g - s > runLength) {
                runStart = s;
                runLength = g - s;
            }
        }
        if (runLength < 2) {
            runStart = -1;
        }
        for (int g = 0; g < 8; g++) {
            if (g == runStart) {
                out.put((byte) ':').put((byte) ':');
                g += runLength - 1;
                continue;
            }
            if (g > 0 && g != runStart + runLength) {
                out.put((byte) ':');
            }
            putHex(out, group(a, g));
        }
    }

    private static int group(byte[] a, int g) {
        return ((a[2 * g] & 0xFF) << 8) | (a[2 * g + 1] & 0xFF);
    }

    private static void putHex(ByteBuffer out, int value) {
        boolean started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int digit = (value >>> shift) & 0xF;
            if (digit != 0 || started || shift == 0) {
                out.put(HEX[digit]);
                started = true;
            }
        }
    }

    private static void putDecimal(ByteBuffer out, int value) {
        int divisor = 1;
        while (divisor * 10 <= value) {
            divisor *= 10;
        }
        for (; divisor > 0; divisor /= 10) {
            out.put((byte) ('0' + (value / divisor) % 10));
        }
    }
}
