package dev.aegis.tls;

import dev.aegis.tls.ClientHelloResult.Invalid;
import dev.aegis.tls.ClientHelloResult.Sni;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Finds the server name in the first bytes a TLS client sends, without decrypting anything: the
 * ClientHello travels in the clear (RFC 8446 §4.1.2, RFC 5246 §6.2 and §7.4.1.2).
 *
 * <p>The parser keeps no state: the caller appends what it reads to one buffer and hands all of it
 * over again until the outcome is not {@link ClientHelloResult.NeedMore}. So a hello split across
 * TCP segments (any prefix) and across TLS records (a handshake message, even its 4-byte header,
 * may be cut into several records: RFC 8446 §5.1) parse alike. Work is linear in the bytes given.
 *
 * <p>Outcomes, decided in this order:
 * <ol>
 *   <li>{@code NotTls}: the first three bytes are not {@code 22, 3, 0..4} (a handshake record of
 *       SSL 3.0 to TLS 1.3). Decided on the bytes present: one byte {@code 22} is still NeedMore.
 *       An SSLv2-compatible hello (first byte with the high bit set) is NotTls.</li>
 *   <li>{@code Invalid}: a record header is wrong (another type or version after the first record,
 *       length 0, longer than 2^14), the handshake message is not a ClientHello (checked as soon
 *       as its type byte arrives), or the hello cannot fit in {@link #MAX_BYTES}.</li>
 *   <li>{@code NeedMore}: the ClientHello is not complete yet. Its body is only read once all of
 *       it is here, so a malformed body is reported then, not earlier.</li>
 *   <li>{@code Sni}, {@code NoSni} or {@code Invalid} from the complete body: every length in it
 *       must agree (the extension block must end exactly where the hello ends), at most one
 *       server_name extension with a non-empty list and at most one host_name in it, and the
 *       host_name must be a DNS name ({@link DnsNames}; one trailing dot is removed first, the
 *       name is lower-cased). Other name types are skipped by their 16-bit length, as RFC 6066 §3
 *       requires of every future type. Bytes after the ClientHello (a 0-RTT record) are not read.</li>
 * </ol>
 *
 * <p>Never throws on any content and allocates nothing but the name of an {@code Sni} result.
 * Only the first {@link #MAX_BYTES} bytes are looked at; a hello not complete within them is
 * Invalid, so the caller never needs to read more than that.
 */
public final class ClientHelloParser {

    /** The most bytes of a connection that are examined (SPEC §10: at most 16 KiB). */
    public static final int MAX_BYTES = 16 * 1024;

    private static final int RECORD_HEADER = 5;
    private static final int HANDSHAKE_HEADER = 4;
    /** RFC 8446 §5.1 and RFC 5246 §6.2.1: a record carries at most 2^14 bytes of plaintext. */
    private static final int MAX_FRAGMENT = 1 << 14;
    private static final int CONTENT_HANDSHAKE = 22;
    private static final int MAJOR_VERSION = 3;
    /** Record versions 3.0 (SSL 3.0) to 3.4 (one past TLS 1.3, which still writes 3.3 or 3.1). */
    private static final int MAX_MINOR_VERSION = 4;
    private static final int CLIENT_HELLO = 1;
    private static final int RANDOM = 32;
    private static final int MAX_SESSION_ID = 32;
    private static final int EXTENSION_SERVER_NAME = 0;
    private static final int NAME_TYPE_HOST_NAME = 0;

    static final Invalid BAD_RECORD_TYPE = invalid("a record other than handshake before the ClientHello ended");
    static final Invalid BAD_RECORD_VERSION = invalid("a record version other than 3.0-3.4");
    static final Invalid EMPTY_RECORD = invalid("an empty handshake record");
    static final Invalid RECORD_TOO_LONG = invalid("a record longer than 16384 bytes");
    static final Invalid NOT_CLIENT_HELLO = invalid("the first handshake message is not a ClientHello");
    static final Invalid TOO_LARGE = invalid("ClientHello larger than 16384 bytes");
    static final Invalid TRUNCATED = invalid("ClientHello shorter than its fields");
    static final Invalid BAD_CLIENT_VERSION = invalid("ClientHello version is not 3.x");
    static final Invalid BAD_SESSION_ID = invalid("session id longer than 32 bytes");
    static final Invalid BAD_CIPHER_SUITES = invalid("cipher suites length not even or zero");
    static final Invalid NO_COMPRESSION = invalid("no compression methods");
    static final Invalid BAD_EXTENSIONS_LENGTH = invalid("extensions length does not match the ClientHello length");
    static final Invalid BAD_EXTENSION = invalid("an extension longer than the extension block");
    static final Invalid TWO_SERVER_NAMES = invalid("two server_name extensions");
    static final Invalid BAD_SERVER_NAME_LIST = invalid("server_name list lengths do not match");
    static final Invalid TWO_HOST_NAMES = invalid("two host names in server_name");
    static final Invalid BAD_HOST_NAME = invalid("host name is not a DNS name");

    private ClientHelloParser() {
    }

    /**
     * Parses the bytes from {@code bytes.position()} to its limit; changes neither.
     *
     * @param bytes everything the client has sent so far (only the first {@link #MAX_BYTES} are read)
     * @return one of the five outcomes of {@link ClientHelloResult}; never null
     */
    public static ClientHelloResult parse(ByteBuffer bytes) {
        int start = bytes.position();
        int given = bytes.limit() - start;
        int end = start + Math.min(given, MAX_BYTES);
        if (end == start) {
            return ClientHelloResult.NEED_MORE;
        }
        if (u8(bytes, start) != CONTENT_HANDSHAKE
                || (end > start + 1 && u8(bytes, start + 1) != MAJOR_VERSION)
                || (end > start + 2 && u8(bytes, start + 2) > MAX_MINOR_VERSION)) {
            return ClientHelloResult.NOT_TLS;
        }
        return frame(bytes, start, end, given);
    }

    /**
     * Parses {@code length} bytes of {@code bytes} from {@code offset} (wraps them, which costs one
     * small object; the {@link ByteBuffer} form allocates nothing).
     *
     * @throws IndexOutOfBoundsException if offset and length do not lie within the array
     */
    public static ClientHelloResult parse(byte[] bytes, int offset, int length) {
        return parse(ByteBuffer.wrap(bytes, offset, length));
    }

    /**
     * Walks the record headers until the ClientHello is complete, checking each header and the
     * handshake header as soon as its bytes are present.
     */
    private static ClientHelloResult frame(ByteBuffer b, int start, int end, int given) {
        int record = start;
        int handshakeBytes = 0;
        int messageLength = -1;
        while (true) {
            if (record > start) {
                if (record < end && u8(b, record) != CONTENT_HANDSHAKE) {
                    return BAD_RECORD_TYPE;
                }
                if ((record + 1 < end && u8(b, record + 1) != MAJOR_VERSION)
                        || (record + 2 < end && u8(b, record + 2) > MAX_MINOR_VERSION)) {
                    return BAD_RECORD_VERSION;
                }
            }
            if (record + RECORD_HEADER > end) {
                return incomplete(given);
            }
            int length = u16(b, record + 3);
            if (length == 0) {
                return EMPTY_RECORD; // RFC 8446 §5.1: no zero-length handshake fragments
            }
            if (length > MAX_FRAGMENT) {
                return RECORD_TOO_LONG;
            }
            int fragment = record + RECORD_HEADER;
            int present = Math.min(length, end - fragment);
            if (handshakeBytes == 0 && present > 0 && u8(b, fragment) != CLIENT_HELLO) {
                return NOT_CLIENT_HELLO;
            }
            handshakeBytes += present;
            if (messageLength < 0 && handshakeBytes >= HANDSHAKE_HEADER) {
                long type = skip(b, first(b, start), 1);
                messageLength = HANDSHAKE_HEADER + (peek(b, type) << 16 | peek16(b, skip(b, type, 1)));
                if (messageLength + RECORD_HEADER > MAX_BYTES) {
                    return TOO_LARGE;
                }
            }
            if (messageLength >= 0 && handshakeBytes >= messageLength) {
                return body(b, skip(b, first(b, start), HANDSHAKE_HEADER), messageLength - HANDSHAKE_HEADER);
            }
            if (present < length) {
                return incomplete(given);
            }
            record = fragment + length;
        }
    }

    private static ClientHelloResult incomplete(int given) {
        return given >= MAX_BYTES ? TOO_LARGE : ClientHelloResult.NEED_MORE;
    }

    /**
     * Reads the ClientHello body, all of which is present: {@code left} counts the body bytes not
     * yet read, and every length is checked against it before anything is read or skipped.
     */
    private static ClientHelloResult body(ByteBuffer b, long c, int left) {
        if (left < 2 + RANDOM + 1) {
            return TRUNCATED;
        }
        if (peek(b, c) != MAJOR_VERSION) {
            return BAD_CLIENT_VERSION;
        }
        c = skip(b, c, 2 + RANDOM);
        int sessionId = peek(b, c);
        c = skip(b, c, 1);
        left -= 2 + RANDOM + 1;
        if (sessionId > MAX_SESSION_ID) {
            return BAD_SESSION_ID;
        }
        if (sessionId + 2 > left) {
            return TRUNCATED;
        }
        c = skip(b, c, sessionId);
        int suites = peek16(b, c);
        c = skip(b, c, 2);
        left -= sessionId + 2;
        if (suites == 0 || suites % 2 != 0) {
            return BAD_CIPHER_SUITES;
        }
        if (suites + 1 > left) {
            return TRUNCATED;
        }
        c = skip(b, c, suites);
        int compression = peek(b, c);
        c = skip(b, c, 1);
        left -= suites + 1;
        if (compression == 0) {
            return NO_COMPRESSION;
        }
        if (compression > left) {
            return TRUNCATED;
        }
        c = skip(b, c, compression);
        left -= compression;
        if (left == 0) {
            return ClientHelloResult.NO_SNI; // no extension block at all (allowed before TLS 1.3)
        }
        if (left < 2 || peek16(b, c) != left - 2) {
            return BAD_EXTENSIONS_LENGTH;
        }
        return extensions(b, skip(b, c, 2), left - 2);
    }

    /** Walks the whole extension block (so a bad block is Invalid even after a good server_name). */
    private static ClientHelloResult extensions(ByteBuffer b, long c, int left) {
        boolean sawServerName = false;
        long name = 0;
        int nameLength = -1;
        while (left > 0) {
            if (left < 4) {
                return BAD_EXTENSION;
            }
            int type = peek16(b, c);
            c = skip(b, c, 2);
            int length = peek16(b, c);
            c = skip(b, c, 2);
            left -= 4;
            if (length > left) {
                return BAD_EXTENSION;
            }
            if (type == EXTENSION_SERVER_NAME) {
                if (sawServerName) {
                    return TWO_SERVER_NAMES; // RFC 8446 §4.2: one extension of a type at most
                }
                sawServerName = true;
                if (length < 2 || peek16(b, c) != length - 2 || length == 2) {
                    return BAD_SERVER_NAME_LIST; // ServerName server_name_list<1..2^16-1>
                }
                long d = skip(b, c, 2);
                int listLeft = length - 2;
                while (listLeft > 0) {
                    if (listLeft < 3) {
                        return BAD_SERVER_NAME_LIST;
                    }
                    int nameType = peek(b, d);
                    d = skip(b, d, 1);
                    int entryLength = peek16(b, d);
                    d = skip(b, d, 2);
                    listLeft -= 3;
                    if (entryLength > listLeft) {
                        return BAD_SERVER_NAME_LIST;
                    }
                    if (nameType == NAME_TYPE_HOST_NAME) {
                        if (nameLength >= 0) {
                            return TWO_HOST_NAMES; // RFC 6066 §3: one name per name_type
                        }
                        name = d;
                        nameLength = entryLength;
                    }
                    d = skip(b, d, entryLength);
                    listLeft -= entryLength;
                }
            }
            c = skip(b, c, length);
            left -= length;
        }
        return nameLength < 0 ? ClientHelloResult.NO_SNI : hostName(b, name, nameLength);
    }

    /** Copies the host_name lower-cased, without one trailing dot, and checks it is a DNS name. */
    private static ClientHelloResult hostName(ByteBuffer b, long c, int length) {
        // HostName<1..2^16-1>; past 254 (253 and a trailing dot) it cannot be a DNS name, and this
        // bounds what is allocated for a hostile one.
        if (length == 0 || length > DnsNames.MAX_LENGTH + 1) {
            return BAD_HOST_NAME;
        }
        byte[] name = new byte[length];
        for (int i = 0; i < length; i++) {
            int v = peek(b, c);
            name[i] = (byte) (v >= 'A' && v <= 'Z' ? v + ('a' - 'A') : v);
            c = skip(b, c, 1);
        }
        int kept = length > 1 && name[length - 1] == '.' ? length - 1 : length;
        // ISO-8859-1 maps every byte to one char, so a byte >= 0x80 fails the check below
        String host = new String(name, 0, kept, StandardCharsets.ISO_8859_1);
        return DnsNames.isHostName(host) ? new Sni(host) : BAD_HOST_NAME;
    }

    // A cursor over the handshake bytes that steps over record headers: the position of the next
    // byte in the low 32 bits of a long, the end of its record's fragment in the high 32 bits (two
    // ints with no object to hold them). frame() has checked every record header up to the end
    // of the ClientHello and that every fragment is at least 1 byte long, and body() never reads
    // past the end of the ClientHello, so a cursor only ever moves over checked records.

    /** The cursor at the first handshake byte, in the first record. */
    private static long first(ByteBuffer b, int start) {
        int fragment = start + RECORD_HEADER;
        return cursor(fragment, fragment + u16(b, start + 3));
    }

    private static long cursor(int position, int fragmentEnd) {
        return (long) fragmentEnd << 32 | (position & 0xffff_ffffL);
    }

    /** The byte at the cursor (the first of the next record when the cursor is at a record's end). */
    private static int peek(ByteBuffer b, long c) {
        int position = (int) c;
        int fragmentEnd = (int) (c >>> 32);
        return u8(b, position < fragmentEnd ? position : fragmentEnd + RECORD_HEADER);
    }

    private static int peek16(ByteBuffer b, long c) {
        return peek(b, c) << 8 | peek(b, skip(b, c, 1));
    }

    /** The cursor {@code n} handshake bytes further on. */
    private static long skip(ByteBuffer b, long c, int n) {
        int position = (int) c;
        int fragmentEnd = (int) (c >>> 32);
        while (true) {
            int step = Math.min(n, fragmentEnd - position);
            position += step;
            n -= step;
            if (n == 0) {
                return cursor(position, fragmentEnd);
            }
            position = fragmentEnd + RECORD_HEADER;
            fragmentEnd = position + u16(b, fragmentEnd + 3);
        }
    }

    private static int u8(ByteBuffer b, int index) {
        return b.get(index) & 0xff;
    }

    private static int u16(ByteBuffer b, int index) {
        return u8(b, index) << 8 | u8(b, index + 1);
    }

    private static Invalid invalid(String reason) {
        return new Invalid(reason);
    }
}
