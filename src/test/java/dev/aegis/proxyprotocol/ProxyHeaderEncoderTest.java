package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.V2_SIGNATURE_HEX;
import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.proxyprotocol.ParseResult.Parsed;
import dev.aegis.proxyprotocol.ProxyHeader.Command;
import dev.aegis.proxyprotocol.ProxyHeader.Family;
import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The headers Aegis sends: exact bytes of known examples, and every combination read back. */
class ProxyHeaderEncoderTest {

    @Test
    void writesTheSpecificationsV1Example() throws Exception {
        byte[] line = ProxyHeaderEncoder.v1(at("192.168.0.1", 56324), at("192.168.0.11", 443));
        assertEquals("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", text(line));
    }

    @Test
    void writesTcp6InItsShortestForm() throws Exception {
        assertEquals("PROXY TCP6 2001:db8::1 2001:db8:0:1:1:1:1:1 0 65535\r\n",
                text(ProxyHeaderEncoder.v1(at("2001:db8:0:0:0:0:0:1", 0), at("2001:db8:0:1:1:1:1:1", 65535))));
        String longest = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        byte[] line = ProxyHeaderEncoder.v1(at(longest, 65535), at(longest, 65535));
        assertEquals(104, line.length);
    }

    @Test
    void compressesIpv6TextAsRfc5952Says() throws Exception {
        String[][] cases = {{"0:0:0:0:0:0:0:0", "::"}, {"0:0:0:0:0:0:0:1", "::1"}, {"1:0:0:0:0:0:0:0", "1::"},
            {"1:0:0:1:0:0:0:1", "1:0:0:1::1"}, {"1:0:0:0:1:0:0:1", "1::1:0:0:1"}, {"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
            {"2001:DB8:0:0:0:0:0:ABCD", "2001:db8::abcd"}, {"0:0:1:2:3:4:5:6", "::1:2:3:4:5:6"},
            {"fe80:0:0:0:0:0:0:0", "fe80::"}, {"0:1:0:0:0:0:0:0", "0:1::"}};
        for (String[] c : cases) {
            String line = text(ProxyHeaderEncoder.v1(at(c[0], 1), at("::1", 2)));
            assertEquals("PROXY TCP6 " + c[1] + " ::1 1 2\r\n", line, c[0]);
        }
    }

    @Test
    void writesUnknownWhenTheFamiliesDifferOrAnAddressIsMissing() throws Exception {
        InetSocketAddress v4 = at("10.0.0.1", 1000);
        InetSocketAddress v6 = at("2001:db8::1", 2000);
        for (InetSocketAddress[] pair : new InetSocketAddress[][] {{v4, v6}, {v6, v4}, {null, v4}, {v6, null},
            {InetSocketAddress.createUnresolved("example.com", 80), v4}}) {
            assertEquals("PROXY UNKNOWN\r\n", text(ProxyHeaderEncoder.v1(pair[0], pair[1])));
        }
    }

    @Test
    void treatsIpv4MappedAddressesAsIpv4() throws Exception {
        InetSocketAddress mapped = new InetSocketAddress(mappedInet6("192.0.2.7"), 5000);
        InetSocketAddress v4 = at("198.51.100.1", 80);

        assertEquals("PROXY TCP4 192.0.2.7 198.51.100.1 5000 80\r\n", text(ProxyHeaderEncoder.v1(mapped, v4)));
        assertArrayEquals(hex(V2_SIGNATURE_HEX + "21 11 000c c0000207 c6336401 1388 0050"),
                ProxyHeaderEncoder.v2(Transport.TCP, mapped, v4));
    }

    @Test
    void writesTheV2InetStreamExampleByteByByte() throws Exception {
        byte[] header = ProxyHeaderEncoder.v2(Transport.TCP, at("192.168.0.1", 56324), at("192.168.0.11", 443));
        assertArrayEquals(ProxyHeaderV2Test.INET_STREAM, header);
    }

    @Test
    void writesV2Inet6DatagramsAndMapsAnIpv4SideIntoIpv6() throws Exception {
        assertArrayEquals(ProxyHeaderV2Test.INET6_DGRAM,
                ProxyHeaderEncoder.v2(Transport.UDP, at("2001:db8::1", 53000), at("2001:db8::53", 53)));
        assertArrayEquals(hex(V2_SIGNATURE_HEX + "21 22 0024" + "00000000000000000000ffff0a000001"
                        + "20010db8000000000000000000000053" + "cf08 0035"),
                ProxyHeaderEncoder.v2(Transport.UDP, at("10.0.0.1", 53000), at("2001:db8::53", 53)));
    }

    @Test
    void writesV2UnspecWithoutAddressesAndLocal() throws Exception {
        byte[] unspec = hex(V2_SIGNATURE_HEX + "21 00 0000");
        assertArrayEquals(unspec, ProxyHeaderEncoder.v2(Transport.TCP, null, at("10.0.0.1", 1)));
        assertArrayEquals(unspec, ProxyHeaderEncoder.v2(Transport.UNSPEC, at("10.0.0.1", 1), at("10.0.0.2", 2)));
        ByteBuffer buf = ByteBuffer.allocate(16);
        assertEquals(16, ProxyHeaderEncoder.writeV2Local(buf));
        assertArrayEquals(hex(V2_SIGNATURE_HEX + "20 00 0000"), buf.array());
    }

    @Test
    void everyCombinationReadsBackAsWritten() throws Exception {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int port : new int[] {0, 1, 443, 65535}) {
            addresses.add(at("192.0.2.1", port));
            addresses.add(at("0.0.0.0", port));
            addresses.add(at("255.255.255.255", port));
            addresses.add(at("2001:db8::1", port));
            addresses.add(at("::", port));
            addresses.add(at("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port));
            addresses.add(new InetSocketAddress(mappedInet6("198.51.100.9"), port));
        }
        addresses.add(null);
        int checked = 0;
        for (InetSocketAddress src : addresses) {
            for (InetSocketAddress dst : addresses) {
                boolean known = src != null && dst != null;
                boolean bothV4 = known && isV4(src) && isV4(dst);
                boolean bothV6 = known && !isV4(src) && !isV4(dst);

                ProxyHeader v1 = read(ProxyHeaderEncoder.v1(src, dst), false);
                if (bothV4 || bothV6) {
                    assertEquals(new ProxyHeader(1, Command.PROXY, Transport.TCP, bothV4 ? Family.INET : Family.INET6,
                            plain(src), plain(dst), v1.length()), v1);
                } else {
                    assertEquals(new ProxyHeader(1, Command.PROXY, Transport.UNSPEC, Family.UNSPEC, null, null, 15), v1);
                }

                for (Transport t : new Transport[] {Transport.TCP, Transport.UDP}) {
                    ProxyHeader v2 = read(ProxyHeaderEncoder.v2(t, src, dst), t == Transport.UDP);
                    if (known) {
                        assertEquals(new ProxyHeader(2, Command.PROXY, t, bothV4 ? Family.INET : Family.INET6,
                                plain(src), plain(dst), bothV4 ? 28 : 52), v2);
                    } else {
                        assertEquals(new ProxyHeader(2, Command.PROXY, Transport.UNSPEC, Family.UNSPEC, null, null, 16), v2);
                    }
                }
                checked++;
            }
        }
        assertEquals(29 * 29, checked);
    }

    @Test
    void writesAtTheBuffersPositionInAnyByteOrderAndAdvancesIt() throws Exception {
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(200), ByteBuffer.allocateDirect(200)}) {
            buf.order(ByteOrder.LITTLE_ENDIAN).put(ascii("abc"));
            int n = ProxyHeaderEncoder.writeV2(Transport.TCP, at("192.168.0.1", 56324), at("192.168.0.11", 443), buf);
            assertEquals(28, n);
            assertEquals(31, buf.position());
            int m = ProxyHeaderEncoder.writeV1(at("192.168.0.1", 56324), at("192.168.0.11", 443), buf);
            assertEquals(47, m);
            byte[] all = new byte[buf.position()];
            buf.flip().get(all);
            assertArrayEquals(ProxyHeaderV2Test.INET_STREAM, Arrays.copyOfRange(all, 3, 31));
            assertEquals("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", text(Arrays.copyOfRange(all, 31, 78)));
        }
    }

    @Test
    void aBufferTooSmallIsRefusedAndLeftUntouched() throws Exception {
        ByteBuffer small = ByteBuffer.allocate(51);
        assertThrows(BufferOverflowException.class,
                () -> ProxyHeaderEncoder.writeV2(Transport.TCP, at("::1", 1), at("::1", 2), small));
        assertThrows(BufferOverflowException.class,
                () -> ProxyHeaderEncoder.writeV1(at("10.0.0.1", 1), at("10.0.0.2", 2), small));
        assertEquals(0, small.position());
        assertTrue(Arrays.equals(new byte[51], small.array()));
        assertEquals(28, ProxyHeaderEncoder.writeV2(Transport.TCP, at("10.0.0.1", 1), at("10.0.0.2", 2),
                ByteBuffer.allocate(28)));
    }

    private static ProxyHeader read(byte[] header, boolean datagram) {
        ParseResult r = datagram
                ? ProxyHeaderParser.parseDatagram(header, 0, header.length)
                : ProxyHeaderParser.parse(header, 0, header.length);
        ProxyHeader h = assertInstanceOf(Parsed.class, r, () -> "got " + r).header();
        assertEquals(header.length, h.length());
        return h;
    }

    /** The address as the parser gives it back: a mapped IPv6 address is an Inet4Address there. */
    private static InetSocketAddress plain(InetSocketAddress a) throws UnknownHostException {
        return new InetSocketAddress(InetAddress.getByAddress(a.getAddress().getAddress()), a.getPort());
    }

    private static boolean isV4(InetSocketAddress a) {
        byte[] raw = a.getAddress().getAddress();
        return raw.length == 4 || (raw[10] == (byte) 0xFF && raw[11] == (byte) 0xFF
                && Arrays.equals(new byte[10], Arrays.copyOf(raw, 10)));
    }

    /** An Inet6Address holding {@code ::ffff:v4} (InetAddress.getByName would hand back an Inet4Address). */
    static Inet6Address mappedInet6(String v4) throws UnknownHostException {
        byte[] raw = new byte[16];
        raw[10] = (byte) 0xFF;
        raw[11] = (byte) 0xFF;
        System.arraycopy(InetAddress.getByName(v4).getAddress(), 0, raw, 12, 4);
        return Inet6Address.getByAddress(null, raw, -1);
    }

    static InetSocketAddress at(String literal, int port) throws UnknownHostException {
        return new InetSocketAddress(InetAddress.getByName(literal), port);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }
}
