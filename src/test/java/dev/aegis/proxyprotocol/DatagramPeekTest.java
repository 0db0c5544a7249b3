package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.V2_SIGNATURE_HEX;
import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.concat;
import static dev.aegis.proxyprotocol.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.proxyprotocol.ParseResult.NotProxy;
import dev.aegis.proxyprotocol.ParseResult.Parsed;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link DatagramPeek} must decide every datagram as {@link ProxyHeaderParser#parseDatagram} does
 * (the UDP reader uses one, the codec's tests cover the other): valid headers, their mutations and
 * truncations, with the same length and client.
 */
class DatagramPeekTest {

    private static final List<byte[]> CORPUS = List.of(
            ProxyHeaderV2Test.INET_STREAM,
            concat(ProxyHeaderV2Test.INET6_DGRAM, ascii("dns query")),
            hex(V2_SIGNATURE_HEX + "20 00 0000"),
            hex(V2_SIGNATURE_HEX + "21 00 0000"),
            concat(hex(V2_SIGNATURE_HEX + "21 32 00d8"), new byte[216]),
            ProxyHeaderV2Test.v2WithTlvs(ProxyHeaderV2Test.INET_STREAM, hex("01 0002 6832 04 0000 20 0005 0100000000")),
            ProxyHeaderV2Test.withCrc32c(ProxyHeaderV2Test.INET6_DGRAM),
            ascii("plain payload"),
            new byte[0]);

    @Test
    void agreesWithTheParserOnValidMutatedAndTruncatedDatagrams() {
        SplittableRandom random = new SplittableRandom(0xDA7A);
        DatagramPeek peek = new DatagramPeek();
        for (byte[] seed : CORPUS) {
            for (int cut = 0; cut <= seed.length; cut++) {
                check(peek, Arrays.copyOf(seed, cut));
            }
            for (int i = 0; i < 5_000 && seed.length > 0; i++) {
                byte[] m = seed.clone();
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    m[random.nextInt(m.length)] = (byte) random.nextInt(256);
                }
                check(peek, m);
            }
        }
    }

    private static InetAddress address(DatagramPeek peek) {
        try {
            return InetAddress.getByAddress(Arrays.copyOf(peek.address(), peek.addressLength()));
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static void check(DatagramPeek peek, byte[] datagram) {
        String label = HexFormat.of().formatHex(datagram);
        ParseResult expected = ProxyHeaderParser.parseDatagram(ByteBuffer.wrap(datagram));
        int got = peek.peek(ByteBuffer.wrap(datagram));
        if (expected instanceof Parsed(ProxyHeader h)) {
            assertEquals(h.length(), got, label);
            InetSocketAddress source = h.command() == ProxyHeader.Command.PROXY ? h.source() : null;
            if (source == null) {
                assertEquals(0, peek.addressLength(), label);
            } else {
                assertEquals(source.getPort(), peek.port(), label);
                assertEquals(source.getAddress(), address(peek), label);
            }
        } else if (expected instanceof NotProxy) {
            assertEquals(DatagramPeek.NOT_PROXY, got, label);
        } else {
            assertEquals(DatagramPeek.INVALID, got, label + " " + expected);
        }
    }
}
