package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.concat;
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
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The v1 text line: the spec's examples, every way to get it wrong, and reading it piece by piece. */
class ProxyHeaderV1Test {

    private static final String SPEC_EXAMPLE = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";

    @Test
    void parsesTheSpecificationsExampleAndLeavesThePayloadAfterIt() throws Exception {
        byte[] input = ascii(SPEC_EXAMPLE + "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n");

        ProxyHeader h = parsed(input);

        assertEquals(new ProxyHeader(1, Command.PROXY, Transport.TCP, Family.INET,
                new InetSocketAddress(InetAddress.getByName("192.168.0.1"), 56324),
                new InetSocketAddress(InetAddress.getByName("192.168.0.11"), 443), SPEC_EXAMPLE.length()), h);
        assertEquals(47, h.length());
    }

    @Test
    void parsesTcp6AndTheExtremesOfAddressesAndPorts() throws Exception {
        ProxyHeader h = parsed(ascii("PROXY TCP6 2001:db8::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 0 65535\r\n"));
        assertEquals(Family.INET6, h.family());
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 0), h.source());
        assertEquals(new InetSocketAddress(InetAddress.getByName("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535),
                h.destination());

        ProxyHeader v4 = parsed(ascii("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("255.255.255.255"), 65535), v4.destination());
    }

    @Test
    void readsEveryIpv6Notation() throws Exception {
        String[] literals = {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "1::8", "ABCD:ef01::",
            "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "::1.2.3.4", "64:ff9b::192.0.2.33",
            "1:2:3:4:5:6:1.2.3.4"};
        for (String literal : literals) {
            ProxyHeader h = parsed(ascii("PROXY TCP6 " + literal + " ::1 1 2\r\n"));
            assertEquals(InetAddress.getByName(literal), h.source().getAddress(), literal);
        }
    }

    @Test
    void anIpv4MappedSourceComesBackAsIpv4() throws Exception {
        ProxyHeader h = parsed(ascii("PROXY TCP6 ::ffff:192.0.2.1 ::1 1000 2000\r\n"));
        assertInstanceOf(Inet4Address.class, h.source().getAddress());
        assertEquals("192.0.2.1", h.source().getAddress().getHostAddress());
    }

    @Test
    void unknownIgnoresTheRestOfTheLineAndCarriesNoAddress() {
        for (String line : new String[] {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN whatever: it is ignored\r\n",
            "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"}) {
            ProxyHeader h = parsed(ascii(line));
            assertEquals(new ProxyHeader(1, Command.PROXY, Transport.UNSPEC, Family.UNSPEC, null, null, line.length()), h);
            InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7);
            assertEquals(peer, h.clientOr(peer));
        }
        assertEquals(107, parsed(ascii("PROXY UNKNOWN " + "x".repeat(91) + "\r\n")).length());
    }

    static Stream<Arguments> invalidLines() {
        return Stream.of(
                Arguments.of("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "bad_family"),
                Arguments.of("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "bad_family"),
                Arguments.of("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", "bad_family"),
                Arguments.of("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad_family"),
                Arguments.of("PROXY UNKNOWNX\r\n", "bad_family"),
                Arguments.of("PROXY \r\n", "bad_family"),
                Arguments.of("PROXY TCP4\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 \r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "bad_syntax"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "bad_syntax"),
                Arguments.of("PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", "bad_family"),
                Arguments.of("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2..4 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8. 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3.4 1234.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 ::1 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1::2::3 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 12345::1 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 :1:: ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1: ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 ::: ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 [::1] ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 ::1.2.3 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP6 g::1 ::1 1 2\r\n", "bad_address"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 2a\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", "bad_port"),
                Arguments.of("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "bad_port"),
                Arguments.of("PROXY UNKNOWN " + "x".repeat(92) + "\r\n", "too_long"),
                Arguments.of("PROXY UNKNOWN " + "x".repeat(200), "too_long"),
                Arguments.of("PROXY TCP6 " + "1:".repeat(60), "bad_address"));
    }

    @ParameterizedTest
    @MethodSource("invalidLines")
    void refusesEveryMalformedLineWithItsReason(String line, String reason) {
        ParseResult r = ProxyHeaderParser.parse(ascii(line), 0, line.length());
        assertEquals(reason, assertInstanceOf(Invalid.class, r, line).label(), line);
    }

    @Test
    void anythingThatDoesNotStartWithTheSignatureIsNotProxy() {
        for (String s : new String[] {"GET / HTTP/1.1\r\n", "PROXX", "proxy TCP4", "PROXYTCP4", "\u0016\u0003\u0001"}) {
            assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parse(ascii(s), 0, s.length()), s);
        }
    }

    @Test
    void everyPrefixOfAValidLineNeedsMoreAndNeverOverestimates() {
        String payload = "EHLO x\r\n";
        for (String line : new String[] {SPEC_EXAMPLE, "PROXY UNKNOWN\r\n", "PROXY UNKNOWN a b c\r\n",
            "PROXY TCP6 ::ffff:1.2.3.4 2001:db8:0:0:1:0:0:1 65535 0\r\n",
            "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"}) {
            byte[] input = ascii(line + payload);
            for (int n = 0; n < line.length(); n++) {
                ParseResult r = ProxyHeaderParser.parse(input, 0, n);
                String prefix = line.substring(0, n);
                NeedMore more = assertInstanceOf(NeedMore.class, r, () -> "prefix " + prefix + ": " + r);
                assertTrue(more.atLeast() >= 1 && more.atLeast() <= line.length() - n, line + " at " + n + ": " + more);
            }
            for (int n = line.length(); n <= input.length; n++) {
                assertEquals(line.length(), assertInstanceOf(Parsed.class,
                        ProxyHeaderParser.parse(input, 0, n)).header().length());
            }
        }
    }

    @Test
    void refusesAHopelessPrefixWithoutWaitingForTheLineEnd() {
        for (String[] c : new String[][] {{"PROXY TCP7", "bad_family"}, {"PROXY TCP4 1.2.3.x", "bad_address"},
            {"PROXY TCP4 1.2.3.4 5.6.7.8 99999", "bad_port"}, {"PROXY TCP4 01.2.3.4 ", "bad_address"},
            {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bad_syntax"}, {"PROXY TCP4 1.2.3.4 5.6.7.8 01", "bad_port"},
            {"PROXY TCP6 ::1 12345678", "bad_address"}}) {
            assertEquals(c[1], assertInstanceOf(Invalid.class,
                    ProxyHeaderParser.parse(ascii(c[0]), 0, c[0].length()), c[0]).label(), c[0]);
        }
    }

    @Test
    void parsesFromAnOffsetAndFromHeapAndDirectBuffersWithoutMovingThem() {
        byte[] line = ascii(SPEC_EXAMPLE);
        byte[] framed = concat(ascii("junk"), line, ascii("data"));
        ProxyHeader expected = parsed(line);

        assertEquals(expected, assertInstanceOf(Parsed.class, ProxyHeaderParser.parse(framed, 4, line.length + 4)).header());
        ByteBuffer direct = ByteBuffer.allocateDirect(framed.length).put(framed).position(4);
        assertEquals(expected, assertInstanceOf(Parsed.class, ProxyHeaderParser.parse(direct)).header());
        assertEquals(4, direct.position());
    }

    @Test
    void aDatagramNeverCarriesAV1Line() {
        byte[] line = ascii(SPEC_EXAMPLE);
        assertEquals(ParseResult.NOT_PROXY, ProxyHeaderParser.parseDatagram(line, 0, line.length));
    }

    @Test
    void localAndUnknownHeadersLeaveTheClientToTheConnection() {
        ProxyHeader h = parsed(ascii("PROXY UNKNOWN\r\n"));
        assertNull(h.source());
        assertNull(h.destination());
    }

    static ProxyHeader parsed(byte[] input) {
        ParseResult r = ProxyHeaderParser.parse(input, 0, input.length);
        return assertInstanceOf(Parsed.class, r, () -> "got " + r).header();
    }
}
