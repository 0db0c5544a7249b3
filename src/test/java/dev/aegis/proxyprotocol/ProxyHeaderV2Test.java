package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.V2_SIGNATURE_HEX;
import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.concat;
import static dev.aegis.proxyprotocol.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.proxyprotocol.ParseResult.Invalid;
import dev.aegis.proxyprotocol.ParseResult.NeedMore;
import dev.aegis.proxyprotocol.ParseResult.Parsed;
import dev.aegis.proxyprotocol.ProxyHeader.Command;
import dev.aegis.proxyprotocol.ProxyHeader.Family;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The v2 binary header: known bytes, every family and command, TLVs, the datagram mode, each refusal. */
class ProxyHeaderV2Test {

    /** TCP over IPv4, 192.168.0.1:56324 -> 192.168.0.11:443, written out byte by byte. */
    static final byte[] INET_STREAM = hex(V2_SIGNATURE_HEX + "21 11 000c" + "c0a80001 c0a8000b" + "dc04 01bb");
    /** UDP over IPv6, [2001:db8::1]:53000 -> [2001:db8::53]:53. */
    static final byte[] INET6_DGRAM = hex(V2_SIGNATURE_HEX + "21 22 0024"
            + "20010db8000000000000000000000001" + "20010db8000000000000000000000053" + "cf08 0035");

    @Test
    void parsesAnInetStreamHeaderByteByByte() throws Exception {
        ProxyHeader h = parsed(concat(INET_STREAM, ascii("payload")));

        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.TCP, Family.INET,
                new InetSocketAddress(InetAddress.getByName("192.168.0.1"), 56324),
                new InetSocketAddress(InetAddress.getByName("192.168.0.11"), 443), 28), h);
    }

    @Test
    void parsesAnInet6DatagramHeader() throws Exception {
        ProxyHeader h = assertInstanceOf(Parsed.class,
                ProxyHeaderParser.parseDatagram(concat(INET6_DGRAM, ascii("dns")), 0, INET6_DGRAM.length + 3)).header();

        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.UDP, Family.INET6,
                new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 53000),
                new InetSocketAddress(InetAddress.getByName("2001:db8::53"), 53), 52), h);
    }

    @Test
    void localIsAcceptedWithAnyFamilyAndItsAddressesIgnored() {
        // HAProxy's health checks: LOCAL, UNSPEC, no address
        ProxyHeader plain = parsed(hex(V2_SIGNATURE_HEX + "20 00 0000"));
        assertEquals(new ProxyHeader(2, Command.LOCAL, Transport.UNSPEC, Family.UNSPEC, null, null, 16), plain);

        // LOCAL with an INET block (and a length that would be too short for PROXY): still LOCAL, no addresses
        for (String rest : new String[] {"11 000c c0a80001c0a8000bdc0401bb", "11 0000", "22 0003 ffffff", "31 0000"}) {
            ProxyHeader h = parsed(hex(V2_SIGNATURE_HEX + "20" + rest));
            assertEquals(Command.LOCAL, h.command());
            assertNull(h.source());
            assertNull(h.destination());
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
            assertEquals(peer, h.clientOr(peer));
        }
    }

    @Test
    void proxyWithAnUnspecifiedFamilyOrTransportCarriesNoAddress() {
        ProxyHeader unspec = parsed(hex(V2_SIGNATURE_HEX + "21 00 0000"));
        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.UNSPEC, Family.UNSPEC, null, null, 16), unspec);

        ProxyHeader inetNoTransport = parsed(hex(V2_SIGNATURE_HEX + "21 10 0002 abcd"));
        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.UNSPEC, Family.INET, null, null, 18), inetNoTransport);
    }

    @Test
    void aUnixHeaderIsValidAndHasNoInetAddress() {
        byte[] unix = concat(hex(V2_SIGNATURE_HEX + "21 31 00d8"), ascii("/run/a.sock"), new byte[108 - 11],
                ascii("/run/b.sock"), new byte[108 - 11]);
        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.TCP, Family.UNIX, null, null, 232), parsed(unix));
    }

    @Test
    void skipsTlvsAfterTheAddressBlock() {
        byte[] tlvs = hex("01 0002 6832" + "02 000b" + HexFormat.of().formatHex(ascii("example.com")) + "04 0000"
                + "e0 0003 010203");
        byte[] header = v2WithTlvs(INET_STREAM, tlvs);

        ProxyHeader h = parsed(concat(header, ascii("GET /")));

        assertEquals(header.length, h.length());
        assertEquals(28 + tlvs.length, h.length());
        assertEquals(56324, h.source().getPort());
    }

    @Test
    void verifiesACrc32cTlv() {
        byte[] withCrc = withCrc32c(INET_STREAM);
        assertEquals(withCrc.length, parsed(withCrc).length());

        byte[] wrong = withCrc.clone();
        wrong[wrong.length - 1] ^= 1;
        assertEquals("bad_checksum", invalid(wrong));
        byte[] alteredAddress = withCrc.clone();
        alteredAddress[19] ^= 1;
        assertEquals("bad_checksum", invalid(alteredAddress));
    }

    static Stream<Arguments> invalidHeaders() {
        return Stream.of(
                Arguments.of("11 11 000c c0a80001c0a8000bdc0401bb", "bad_version"),
                Arguments.of("31 11 000c c0a80001c0a8000bdc0401bb", "bad_version"),
                Arguments.of("01 11 000c c0a80001c0a8000bdc0401bb", "bad_version"),
                Arguments.of("22 11 000c c0a80001c0a8000bdc0401bb", "bad_command"),
                Arguments.of("2f 11 000c c0a80001c0a8000bdc0401bb", "bad_command"),
                Arguments.of("21 41 000c c0a80001c0a8000bdc0401bb", "bad_family"),
                Arguments.of("21 f1 000c c0a80001c0a8000bdc0401bb", "bad_family"),
                Arguments.of("21 13 000c c0a80001c0a8000bdc0401bb", "bad_transport"),
                Arguments.of("21 11 000b c0a80001c0a8000bdc0401", "bad_length"),
                Arguments.of("21 11 0000", "bad_length"),
                Arguments.of("21 21 0023 " + "00".repeat(35), "bad_length"),
                Arguments.of("21 31 00d7 " + "00".repeat(215), "bad_length"),
                Arguments.of("21 11 000e c0a80001c0a8000bdc0401bb 0100", "bad_tlv"),
                Arguments.of("21 11 000f c0a80001c0a8000bdc0401bb 010001", "bad_tlv"),
                Arguments.of("21 11 0010 c0a80001c0a8000bdc0401bb 010002 aa", "bad_tlv"),
                Arguments.of("21 11 0013 c0a80001c0a8000bdc0401bb 04 0000 01 0002 aa", "bad_tlv"),
                Arguments.of("21 11 0012 c0a80001c0a8000bdc0401bb 03 0003 000000", "bad_tlv"));
    }

    @ParameterizedTest
    @MethodSource("invalidHeaders")
    void refusesEveryMalformedHeaderWithItsReason(String afterSignature, String reason) {
        byte[] input = hex(V2_SIGNATURE_HEX + afterSignature);
        assertEquals(reason, invalid(input), afterSignature);
        assertEquals(reason, assertInstanceOf(Invalid.class,
                ProxyHeaderParser.parseDatagram(input, 0, input.length)).label(), afterSignature);
    }

    @Test
    void refusesABadFixedByteAsSoonAsItArrives() {
        assertEquals("bad_version", invalid(hex(V2_SIGNATURE_HEX + "11")));
        assertEquals("bad_command", invalid(hex(V2_SIGNATURE_HEX + "25")));
        assertEquals("bad_family", invalid(hex(V2_SIGNATURE_HEX + "21 51")));
        assertEquals("bad_length", invalid(hex(V2_SIGNATURE_HEX + "21 21 0010")));
    }

    @Test
    void aSignatureMismatchAnywhereIsNotProxy() {
        for (int i = 0; i < 12; i++) {
            byte[] input = INET_STREAM.clone();
            input[i] ^= 0x40;
            assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parse(input, 0, input.length), "byte " + i);
            assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parse(input, 0, i + 1), "prefix " + i);
        }
        byte[] dns = hex("abcd 0100 0001 0000 0000 0000");
        assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parseDatagram(dns, 0, dns.length));
        assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parseDatagram(new byte[0], 0, 0));
    }

    @Test
    void everyPrefixNeedsMoreAndTheCountIsExactOnceTheLengthIsIn() {
        byte[] tlvHeader = v2WithTlvs(INET6_DGRAM, hex("01 0002 6832 05 0004 01020304"));
        for (byte[] header : new byte[][] {INET_STREAM, INET6_DGRAM, tlvHeader, withCrc32c(INET_STREAM),
            hex(V2_SIGNATURE_HEX + "20 00 0000")}) {
            byte[] input = concat(header, ascii("rest of stream"));
            for (int n = 0; n < header.length; n++) {
                NeedMore more = assertInstanceOf(NeedMore.class, ProxyHeaderParser.parse(input, 0, n), "prefix " + n);
                if (n >= 16) {
                    assertEquals(header.length - n, more.atLeast(), "prefix " + n);
                } else {
                    // a lower bound: never more than the header really needs
                    assertTrue(more.atLeast() >= 1 && more.atLeast() <= header.length - n, "prefix " + n);
                }
                // the same prefix as a whole datagram is a truncated header (an empty one, no header at all)
                ParseResult datagram = ProxyHeaderParser.parseDatagram(input, 0, n);
                if (n == 0) {
                    assertEquals(ParseResult.NOT_PROXY, datagram);
                } else {
                    assertEquals("truncated", assertInstanceOf(Invalid.class, datagram, "datagram " + n).label());
                }
            }
            assertEquals(header.length, parsed(input).length());
        }
    }

    @Test
    void readsAnyByteOrderHeapOrDirectBufferFromItsPositionAndLeavesItThere() {
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(100), ByteBuffer.allocateDirect(100)}) {
            buf.order(ByteOrder.LITTLE_ENDIAN).put(ascii("xyz")).put(INET_STREAM).put(ascii("data")).flip().position(3);
            ProxyHeader h = assertInstanceOf(Parsed.class, ProxyHeaderParser.parse(buf)).header();
            assertEquals(56324, h.source().getPort());
            assertEquals(3, buf.position());
            assertEquals(h, assertInstanceOf(Parsed.class, ProxyHeaderParser.parseDatagram(buf)).header());
            assertEquals(3, buf.position());
        }
    }

    @Test
    void theLongestHeaderIsAccepted() {
        int tlvValue = 0xFFFF - 12 - 3;
        byte[] header = concat(hex(V2_SIGNATURE_HEX + "21 11 ffff c0a80001c0a8000bdc0401bb 04"),
                new byte[] {(byte) (tlvValue >>> 8), (byte) tlvValue}, new byte[tlvValue]);
        assertEquals(ProxyHeader.V2_MAX_LENGTH, header.length);
        assertEquals(ProxyHeader.V2_MAX_LENGTH, parsed(header).length());
        assertEquals(header.length - 16, assertInstanceOf(NeedMore.class,
                ProxyHeaderParser.parse(header, 0, 16)).atLeast());
    }

    /** {@code header} (16 bytes + address block, length field fixed up) followed by {@code tlvs}. */
    static byte[] v2WithTlvs(byte[] header, byte[] tlvs) {
        byte[] out = concat(header, tlvs);
        int length = out.length - 16;
        out[14] = (byte) (length >>> 8);
        out[15] = (byte) length;
        return out;
    }

    /** {@code header} with a PP2_TYPE_CRC32C TLV appended and filled in as the spec says. */
    static byte[] withCrc32c(byte[] header) {
        byte[] out = v2WithTlvs(header, hex("03 0004 00000000"));
        CRC32C crc = new CRC32C();
        crc.update(out);
        long v = crc.getValue();
        int at = out.length - 4;
        for (int i = 0; i < 4; i++) {
            out[at + i] = (byte) (v >>> (24 - 8 * i));
        }
        return out;
    }

    static ProxyHeader parsed(byte[] input) {
        ParseResult r = ProxyHeaderParser.parse(input, 0, input.length);
        return assertInstanceOf(Parsed.class, r, () -> "got " + r + " for " + HexFormat.of().formatHex(
                Arrays.copyOf(input, Math.min(input.length, 64)))).header();
    }

    static String invalid(byte[] input) {
        ParseResult r = ProxyHeaderParser.parse(input, 0, input.length);
        return assertInstanceOf(Invalid.class, r, () -> "got " + r).label();
    }
}
