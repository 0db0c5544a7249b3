package dev.aegis.proxyprotocol;

import dev.aegis.proxyprotocol.ParseResult.NeedMore;
import dev.aegis.proxyprotocol.ParseResult.Parsed;
import dev.aegis.proxyprotocol.ProxyHeader.Command;
import dev.aegis.proxyprotocol.ProxyHeader.Family;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Reads a PROXY protocol header (v1 or v2, told apart by the first byte) from the start of the bytes
 * received so far.
 *
 * <p>It is written so that it cannot throw on any content: every read is an absolute {@code get}
 * inside {@code [start, start + length)}, checked before it is made (ProxyHeaderFuzzTest feeds it
 * hundreds of thousands of hostile inputs). Only wrong arguments (offsets outside the array) throw.
 * From a ByteBuffer, waiting and refusing allocate nothing (results are shared instances; only
 * verifying a CRC32C TLV does); the byte[] variants wrap the array in one small ByteBuffer. The input
 * buffer's position is never moved.
 *
 * <p>Strictness follows the specification: a v1 line must match its grammar exactly (single
 * spaces, canonical addresses, no leading zeros, CRLF within 107 bytes) and is rejected as soon as a
 * prefix cannot become valid, so a peer sending garbage is turned away without waiting for a
 * timeout. A v2 header must have a known version, command, family and transport, a length covering
 * its address block, and whole TLVs (a CRC32C TLV is verified).
 */
public final class ProxyHeaderParser {

    private static final byte[] V1_PREFIX = {'P', 'R', 'O', 'X', 'Y', ' '};
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] TCP4 = {'T', 'C', 'P', '4'};
    private static final byte[] TCP6 = {'T', 'C', 'P', '6'};
    private static final byte[] UNKNOWN = {'U', 'N', 'K', 'N', 'O', 'W', 'N'};
    /** v2 address block size by family nibble (UNSPEC, INET, INET6, UNIX). */
    private static final int[] ADDRESS_BLOCK = {0, 12, 36, 216};
    private static final Family[] FAMILIES = {Family.UNSPEC, Family.INET, Family.INET6, Family.UNIX};
    private static final Transport[] TRANSPORTS = {Transport.UNSPEC, Transport.TCP, Transport.UDP};
    private static final int TLV_CRC32C = 0x03;
    private static final byte[] ZERO_CRC = new byte[4];
    /** Longest IPv4 literal ("255.255.255.255") and IPv6 literal (six groups and a dotted quad). */
    private static final int MAX_V4_TEXT = 15;
    private static final int MAX_V6_TEXT = 45;
    /** Internal marker of a v1 prefix that is valid so far but not a whole line yet. */
    private static final ParseResult INCOMPLETE = NeedMore.of(1);

    private ProxyHeaderParser() {
    }

    /**
     * Parses the bytes from the buffer's position to its limit (heap or direct), leaving the
     * position where it is: on {@link Parsed} the caller skips {@code header().length()} bytes.
     */
    public static ParseResult parse(ByteBuffer buf) {
        return parse(buf, buf.position(), buf.remaining());
    }

    /** Parses {@code bytes[offset, offset + length)}. */
    public static ParseResult parse(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        return parse(ByteBuffer.wrap(bytes), offset, length);
    }

    /**
     * Parses the start of one whole datagram, from the buffer's position to its limit, leaving the
     * position where it is. Only v2 counts (SPEC §10: v1 describes TCP only), and a datagram is all
     * there will ever be: where a stream would wait for more, this is {@link InvalidReason#TRUNCATED}.
     * Never returns {@link NeedMore}.
     */
    public static ParseResult parseDatagram(ByteBuffer buf) {
        return datagram(buf, buf.position(), buf.remaining());
    }

    /** {@link #parseDatagram(ByteBuffer)} of {@code bytes[offset, offset + length)}. */
    public static ParseResult parseDatagram(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        return datagram(ByteBuffer.wrap(bytes), offset, length);
    }

    private static ParseResult datagram(ByteBuffer b, int s, int n) {
        if (n == 0 || b.get(s) != V2_SIGNATURE[0]) {
            return ParseResult.NOT_PROXY;
        }
        ParseResult r = v2(b, s, n);
        return r instanceof NeedMore ? InvalidReason.TRUNCATED.result() : r;
    }

    private static ParseResult parse(ByteBuffer b, int s, int n) {
        if (n == 0) {
            return NeedMore.of(ProxyHeader.MIN_LENGTH);
        }
        byte first = b.get(s);
        if (first == V1_PREFIX[0]) {
            return v1(b, s, n);
        }
        if (first == V2_SIGNATURE[0]) {
            return v2(b, s, n);
        }
        return ParseResult.NOT_PROXY;
    }

    // ---------------------------------------------------------------------------------------------
    // v2: 12-byte signature, version|command, family|transport, 16-bit length, then length bytes:
    // the address block of the family, then TLVs (type, 16-bit length, value).

    private static ParseResult v2(ByteBuffer b, int s, int n) {
        int signature = Math.min(n, V2_SIGNATURE.length);
        for (int i = 0; i < signature; i++) {
            if (b.get(s + i) != V2_SIGNATURE[i]) {
                return ParseResult.NOT_PROXY;
            }
        }
        // Each fixed byte is checked as soon as it is in: a bad one is refused without waiting.
        if (n <= 12) {
            return NeedMore.of(ProxyHeader.V2_FIXED_LENGTH - n);
        }
        int versionCommand = u8(b, s + 12);
        if (versionCommand >>> 4 != 2) {
            return InvalidReason.BAD_VERSION.result();
        }
        int command = versionCommand & 0x0F;
        if (command > 1) {
            return InvalidReason.BAD_COMMAND.result();
        }
        if (n == 13) {
            return NeedMore.of(ProxyHeader.V2_FIXED_LENGTH - n);
        }
        int familyTransport = u8(b, s + 13);
        int family = familyTransport >>> 4;
        int transport = familyTransport & 0x0F;
        if (family >= FAMILIES.length) {
            return InvalidReason.BAD_FAMILY.result();
        }
        if (transport >= TRANSPORTS.length) {
            return InvalidReason.BAD_TRANSPORT.result();
        }
        if (n < ProxyHeader.V2_FIXED_LENGTH) {
            return NeedMore.of(ProxyHeader.V2_FIXED_LENGTH - n);
        }
        int total = ProxyHeader.V2_FIXED_LENGTH + u16(b, s + 14);
        boolean proxy = command == 1;
        // LOCAL ignores the address block (whatever the family); so does an UNSPEC family or transport.
        int block = proxy && transport != 0 ? ADDRESS_BLOCK[family] : 0;
        if (total - ProxyHeader.V2_FIXED_LENGTH < block) {
            return InvalidReason.BAD_LENGTH.result();
        }
        if (n < total) {
            return NeedMore.of(total - n);
        }
        Command cmd = proxy ? Command.PROXY : Command.LOCAL;
        if (block == 0) {
            return new Parsed(new ProxyHeader(2, cmd, TRANSPORTS[transport], FAMILIES[family], null, null, total));
        }
        int addresses = s + ProxyHeader.V2_FIXED_LENGTH;
        ParseResult tlvError = checkTlvs(b, s, addresses + block, s + total);
        if (tlvError != null) {
            return tlvError;
        }
        InetSocketAddress source = null;
        InetSocketAddress destination = null;
        if (family == 1 || family == 2) {
            int size = family == 1 ? 4 : 16;
            byte[] src = new byte[size];
            byte[] dst = new byte[size];
            b.get(addresses, src);
            b.get(addresses + size, dst);
            int ports = addresses + 2 * size;
            source = new InetSocketAddress(address(src), u16(b, ports));
            destination = new InetSocketAddress(address(dst), u16(b, ports + 2));
        }
        // UNIX paths have no InetSocketAddress: the header is valid, the client stays the sender.
        return new Parsed(new ProxyHeader(2, cmd, TRANSPORTS[transport], FAMILIES[family], source, destination, total));
    }

    /**
     * {@link #parseDatagram(ByteBuffer)} without the header object: the same checks, and the
     * client's address left in {@code out} (see {@link DatagramPeek}). Allocates nothing unless a
     * CRC32C TLV is to be checked.
     *
     * @return the header's length; {@link DatagramPeek#NOT_PROXY} or {@link DatagramPeek#INVALID}
     */
    static int peekDatagram(ByteBuffer b, DatagramPeek out) {
        int s = b.position();
        int n = b.remaining();
        if (n == 0 || b.get(s) != V2_SIGNATURE[0]) {
            return DatagramPeek.NOT_PROXY;
        }
        int signature = Math.min(n, V2_SIGNATURE.length);
        for (int i = 0; i < signature; i++) {
            if (b.get(s + i) != V2_SIGNATURE[i]) {
                return DatagramPeek.NOT_PROXY;
            }
        }
        if (n < ProxyHeader.V2_FIXED_LENGTH) {
            return DatagramPeek.INVALID; // truncated, or a bad fixed byte: invalid either way
        }
        int versionCommand = u8(b, s + 12);
        int command = versionCommand & 0x0F;
        int familyTransport = u8(b, s + 13);
        int family = familyTransport >>> 4;
        int transport = familyTransport & 0x0F;
        if (versionCommand >>> 4 != 2 || command > 1 || family >= FAMILIES.length || transport >= TRANSPORTS.length) {
            return DatagramPeek.INVALID;
        }
        int total = ProxyHeader.V2_FIXED_LENGTH + u16(b, s + 14);
        boolean proxy = command == 1;
        int block = proxy && transport != 0 ? ADDRESS_BLOCK[family] : 0;
        if (total - ProxyHeader.V2_FIXED_LENGTH < block || n < total) {
            return DatagramPeek.INVALID;
        }
        out.addressLength = 0;
        out.port = 0;
        if (block == 0) {
            return total;
        }
        int addresses = s + ProxyHeader.V2_FIXED_LENGTH;
        if (checkTlvs(b, s, addresses + block, s + total) != null) {
            return DatagramPeek.INVALID;
        }
        if (family == 1 || family == 2) {
            int size = family == 1 ? 4 : 16;
            b.get(addresses, out.address, 0, size);
            out.addressLength = size;
            out.port = u16(b, addresses + 2 * size);
        }
        return total;
    }

    /** Null when {@code [from, end)} is a whole sequence of TLVs (and any CRC32C matches), else the error. */
    private static ParseResult checkTlvs(ByteBuffer b, int headerStart, int from, int end) {
        int p = from;
        while (p < end) {
            if (end - p < 3) {
                return InvalidReason.BAD_TLV.result();
            }
            int type = u8(b, p);
            int valueLength = u16(b, p + 1);
            int value = p + 3;
            if (valueLength > end - value) {
                return InvalidReason.BAD_TLV.result();
            }
            if (type == TLV_CRC32C) {
                if (valueLength != 4) {
                    return InvalidReason.BAD_TLV.result();
                }
                if (!crc32cMatches(b, headerStart, end, value)) {
                    return InvalidReason.BAD_CHECKSUM.result();
                }
            }
            p = value + valueLength;
        }
        return null;
    }

    /** The spec's check: CRC32C of the whole header with the checksum field read as zeros. */
    private static boolean crc32cMatches(ByteBuffer b, int headerStart, int headerEnd, int field) {
        CRC32C crc = new CRC32C();
        crc.update(b.slice(headerStart, field - headerStart));
        crc.update(ZERO_CRC, 0, ZERO_CRC.length);
        crc.update(b.slice(field + 4, headerEnd - field - 4));
        long expected = ((long) u16(b, field) << 16) | u16(b, field + 2);
        return crc.getValue() == expected;
    }

    // ---------------------------------------------------------------------------------------------
    // v1: "PROXY " ("TCP4" | "TCP6") " " src " " dst " " sport " " dport CRLF, or "PROXY UNKNOWN"
    // and anything up to CRLF; at most 107 bytes with CRLF.

    private static ParseResult v1(ByteBuffer b, int s, int n) {
        int prefix = Math.min(n, V1_PREFIX.length);
        for (int i = 0; i < prefix; i++) {
            if (b.get(s + i) != V1_PREFIX[i]) {
                return ParseResult.NOT_PROXY;
            }
        }
        if (n < V1_PREFIX.length) {
            return NeedMore.of(ProxyHeader.MIN_LENGTH - n);
        }
        int end = s + Math.min(n, ProxyHeader.V1_MAX_LENGTH);
        int cr = -1;
        for (int i = s + V1_PREFIX.length; i < end; i++) {
            byte c = b.get(i);
            if (c == '\r') {
                cr = i;
                break;
            }
            if (c == '\n') {
                return InvalidReason.BAD_SYNTAX.result(); // a lone LF never ends the line
            }
        }
        boolean complete = cr >= 0;
        ParseResult fields = v1Fields(b, s + V1_PREFIX.length, complete ? cr : end, complete, cr + 2 - s);
        if (fields != INCOMPLETE && !(fields instanceof Parsed)) {
            return fields;
        }
        if (!complete || cr - s + 2 > ProxyHeader.V1_MAX_LENGTH) {
            return n >= ProxyHeader.V1_MAX_LENGTH || complete
                    ? InvalidReason.TOO_LONG.result()
                    : NeedMore.of(ProxyHeader.MIN_LENGTH - n);
        }
        if (cr + 1 >= s + n) {
            return NeedMore.of(1);
        }
        if (b.get(cr + 1) != '\n') {
            return InvalidReason.BAD_SYNTAX.result(); // a lone CR neither
        }
        return fields;
    }

    /**
     * The fields of a v1 line in {@code [p, lineEnd)}. With {@code complete} false the line goes on
     * past {@code lineEnd} (no CR yet): a field that runs into it is checked only for characters and
     * length, and a valid prefix gives {@link #INCOMPLETE}. Returns a Parsed of the given length
     * when the whole line is valid (the caller still checks the LF after it).
     */
    private static ParseResult v1Fields(ByteBuffer b, int p, int lineEnd, boolean complete, int length) {
        int unknown = literal(b, p, lineEnd, complete, UNKNOWN);
        if (unknown == 1) {
            int after = p + UNKNOWN.length;
            if (after < lineEnd && b.get(after) != ' ') {
                return InvalidReason.BAD_FAMILY.result();
            }
            // The receiver must ignore whatever follows UNKNOWN up to CRLF.
            return complete
                    ? new Parsed(new ProxyHeader(1, Command.PROXY, Transport.UNSPEC, Family.UNSPEC, null, null, length))
                    : INCOMPLETE;
        }
        int tcp4 = literal(b, p, lineEnd, complete, TCP4);
        int tcp6 = literal(b, p, lineEnd, complete, TCP6);
        if (tcp4 != 1 && tcp6 != 1) {
            return unknown == 0 || tcp4 == 0 || tcp6 == 0 ? INCOMPLETE : InvalidReason.BAD_FAMILY.result();
        }
        boolean v6 = tcp6 == 1;
        p += TCP4.length;
        if (p == lineEnd) {
            return complete ? InvalidReason.BAD_SYNTAX.result() : INCOMPLETE;
        }
        if (b.get(p) != ' ') {
            return InvalidReason.BAD_FAMILY.result(); // "TCP44"
        }
        p++;

        // Addresses are only checked in the loop; they are read into arrays once the whole line is
        // known to be valid, so that waiting and refusing allocate nothing.
        int sourceStart = 0;
        int sourceEnd = 0;
        int destinationStart = 0;
        int destinationEnd = 0;
        int sourcePort = 0;
        int destinationPort = 0;
        for (int field = 0; field < 4; field++) {
            int e = p;
            while (e < lineEnd && b.get(e) != ' ') {
                e++;
            }
            boolean last = field == 3;
            boolean address = field < 2;
            if (e == lineEnd && !complete) {
                boolean plausible = address ? plausibleAddress(b, p, e, v6) : plausiblePort(b, p, e);
                if (!plausible) {
                    return (address ? InvalidReason.BAD_ADDRESS : InvalidReason.BAD_PORT).result();
                }
                return INCOMPLETE;
            }
            if (e == p || (e == lineEnd) != last) {
                // empty field (double space, space before CR), missing field, or a field too many
                return InvalidReason.BAD_SYNTAX.result();
            }
            if (address) {
                if (!(v6 ? ipv6(b, p, e, null) : ipv4(b, p, e, null, 0))) {
                    return InvalidReason.BAD_ADDRESS.result();
                }
                if (field == 0) {
                    sourceStart = p;
                    sourceEnd = e;
                } else {
                    destinationStart = p;
                    destinationEnd = e;
                }
            } else {
                int port = port(b, p, e);
                if (port < 0) {
                    return InvalidReason.BAD_PORT.result();
                }
                if (field == 2) {
                    sourcePort = port;
                } else {
                    destinationPort = port;
                }
            }
            p = e + 1;
        }
        byte[] src = new byte[v6 ? 16 : 4];
        byte[] dst = new byte[v6 ? 16 : 4];
        if (v6) {
            ipv6(b, sourceStart, sourceEnd, src);
            ipv6(b, destinationStart, destinationEnd, dst);
        } else {
            ipv4(b, sourceStart, sourceEnd, src, 0);
            ipv4(b, destinationStart, destinationEnd, dst, 0);
        }
        Family family = v6 ? Family.INET6 : Family.INET;
        return new Parsed(new ProxyHeader(1, Command.PROXY, Transport.TCP, family,
                new InetSocketAddress(address(src), sourcePort), new InetSocketAddress(address(dst), destinationPort),
                length));
    }

    /** 1: {@code lit} is at p; 0: the bytes up to the (open) line end are a prefix of it; -1: no. */
    private static int literal(ByteBuffer b, int p, int lineEnd, boolean complete, byte[] lit) {
        for (int i = 0; i < lit.length; i++) {
            if (p + i >= lineEnd) {
                return complete ? -1 : 0;
            }
            if (b.get(p + i) != lit[i]) {
                return -1;
            }
        }
        return 1;
    }

    /**
     * Could {@code [p, e)} begin an address of the family? The same rules as a whole address, as far
     * as they can be told from a prefix: so garbage is refused before its line ends.
     */
    private static boolean plausibleAddress(ByteBuffer b, int p, int e, boolean v6) {
        if (e - p > (v6 ? MAX_V6_TEXT : MAX_V4_TEXT)) {
            return false;
        }
        return v6 ? plausibleIpv6(b, p, e) : plausibleIpv4(b, p, e);
    }

    private static boolean plausibleIpv4(ByteBuffer b, int p, int e) {
        int dots = 0;
        int digits = 0;
        int value = 0;
        for (int i = p; i < e; i++) {
            byte c = b.get(i);
            if (isDigit(c)) {
                if (digits > 0 && value == 0) {
                    return false; // leading zero
                }
                value = value * 10 + (c - '0');
                digits++;
                if (value > 255) {
                    return false;
                }
            } else if (c == '.' && digits > 0 && dots < 3) {
                dots++;
                digits = 0;
                value = 0;
            } else {
                return false;
            }
        }
        return true;
    }

    private static boolean plausibleIpv6(ByteBuffer b, int p, int e) {
        int run = 0;        // hex digits since the last colon
        int colons = 0;     // colons in a row
        int gaps = 0;       // "::" seen
        for (int i = p; i < e; i++) {
            byte c = b.get(i);
            if (hex(c) >= 0) {
                if (++run > 4) {
                    return false;
                }
                colons = 0;
            } else if (c == ':') {
                if (++colons > 2 || (colons == 2 && ++gaps > 1)) {
                    return false;
                }
                run = 0;
            } else if (c == '.') {
                return plausibleIpv4(b, i - run, e); // the last 32 bits as a dotted quad
            } else {
                return false;
            }
        }
        return true;
    }

    /** Could {@code [p, e)} begin a port? */
    private static boolean plausiblePort(ByteBuffer b, int p, int e) {
        if (e - p > 5 || (e - p > 1 && b.get(p) == '0')) {
            return false;
        }
        int value = 0;
        for (int i = p; i < e; i++) {
            byte c = b.get(i);
            if (!isDigit(c)) {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return value <= 0xFFFF;
    }

    /** Decimal 0-65535, no sign, no leading zero; -1 if not. */
    private static int port(ByteBuffer b, int p, int e) {
        if (e == p || !plausiblePort(b, p, e)) {
            return -1;
        }
        int value = 0;
        for (int i = p; i < e; i++) {
            value = value * 10 + (b.get(i) - '0');
        }
        return value;
    }

    /**
     * A dotted quad in {@code [p, e)} into {@code out[at, at + 4)} (only checked if out is null):
     * exactly four decimal numbers 0-255, no leading zeros (the spec forbids them: they could be
     * read as octal).
     */
    private static boolean ipv4(ByteBuffer b, int p, int e, byte[] out, int at) {
        int i = p;
        for (int octet = 0; octet < 4; octet++) {
            if (octet > 0) {
                if (i >= e || b.get(i) != '.') {
                    return false;
                }
                i++;
            }
            int start = i;
            int value = 0;
            while (i < e && i - start < 3 && isDigit(b.get(i))) {
                value = value * 10 + (b.get(i) - '0');
                i++;
            }
            int digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && b.get(start) == '0')) {
                return false;
            }
            if (out != null) {
                out[at + octet] = (byte) value;
            }
        }
        return i == e;
    }

    /**
     * An IPv6 literal in {@code [p, e)} into {@code out[0, 16)}: groups of 1-4 hex digits, at most
     * one "::", optionally a dotted quad as the last 32 bits; no zone, no brackets. Only checked if
     * out is null.
     */
    private static boolean ipv6(ByteBuffer b, int p, int e, byte[] out) {
        if (e - p < 2 || e - p > MAX_V6_TEXT) {
            return false;
        }
        int groups = 0;
        int gap = -1; // group index where "::" stands
        int i = p;
        if (b.get(i) == ':') {
            if (b.get(i + 1) != ':') {
                return false;
            }
            gap = 0;
            i += 2;
        }
        while (i < e) {
            int start = i;
            int value = 0;
            int digit;
            while (i < e && (digit = hex(b.get(i))) >= 0) {
                if (i - start == 4) {
                    return false;
                }
                value = (value << 4) | digit;
                i++;
            }
            if (i < e && b.get(i) == '.') {
                // the last 32 bits as a dotted quad
                if (groups > 6 || !ipv4(b, start, e, out, groups * 2)) {
                    return false;
                }
                groups += 2;
                break;
            }
            if (i == start || groups == 8) {
                return false;
            }
            if (out != null) {
                out[groups * 2] = (byte) (value >>> 8);
                out[groups * 2 + 1] = (byte) value;
            }
            groups++;
            if (i == e) {
                break;
            }
            if (b.get(i) != ':') {
                return false;
            }
            i++;
            if (i < e && b.get(i) == ':') {
                if (gap >= 0) {
                    return false;
                }
                gap = groups;
                i++;
            } else if (i == e) {
                return false; // a single trailing colon
            }
        }
        if (gap < 0) {
            return groups == 8;
        }
        if (groups > 7) {
            return false; // "::" must stand for at least one group
        }
        if (out == null) {
            return true;
        }
        // move the groups after "::" to the end, zeros in between
        int shift = 8 - groups;
        for (int g = groups - 1; g >= gap; g--) {
            out[(g + shift) * 2] = out[g * 2];
            out[(g + shift) * 2 + 1] = out[g * 2 + 1];
        }
        for (int g = gap; g < gap + shift; g++) {
            out[g * 2] = 0;
            out[g * 2 + 1] = 0;
        }
        return true;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static int u8(ByteBuffer b, int i) {
        return b.get(i) & 0xFF;
    }

    /** Big-endian whatever the buffer's byte order. */
    private static int u16(ByteBuffer b, int i) {
        return (u8(b, i) << 8) | u8(b, i + 1);
    }

    /** A raw 4- or 16-byte address: no lookup, and these are the only lengths ever passed. */
    static InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new AssertionError("address of " + raw.length + " bytes", e);
        }
    }
}
