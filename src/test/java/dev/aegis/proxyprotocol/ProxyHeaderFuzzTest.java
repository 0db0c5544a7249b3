package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.V2_SIGNATURE_HEX;
import static dev.aegis.proxyprotocol.Bytes.ascii;
import static dev.aegis.proxyprotocol.Bytes.concat;
import static dev.aegis.proxyprotocol.Bytes.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.aegis.proxyprotocol.ParseResult.Invalid;
import dev.aegis.proxyprotocol.ParseResult.NeedMore;
import dev.aegis.proxyprotocol.ParseResult.NotProxy;
import dev.aegis.proxyprotocol.ParseResult.Parsed;
import dev.aegis.proxyprotocol.ProxyHeader.Command;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Hostile input: 100,000 random and 100,000 mutated inputs to each parser (stream and datagram),
 * fixed seed. Every outcome must be one of the four, never an exception, and consistent: the same
 * from a byte[] and a direct buffer, a parsed header no longer than the input and parsed the same
 * from exactly its own bytes.
 */
class ProxyHeaderFuzzTest {

    private static final long SEED = 0xAE915_13L;
    private static final int INPUTS = 100_000;
    /** What a v1 line is made of: the mutations that keep to it get deeper into the grammar. */
    private static final byte[] V1_ALPHABET = ascii("PROXY TCP4 TCP6 UNKNOWN 0123456789abcdefABCDEF.:: \r\n");

    /** Valid headers (some with a payload after them) that the mutations start from. */
    private static final List<byte[]> CORPUS = List.of(
            ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n"),
            ascii("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n"),
            ascii("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 1:2:3:4:5:6:7:8 65535 65535\r\nx"),
            ascii("PROXY UNKNOWN\r\n"),
            ascii("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\nhello"),
            ProxyHeaderV2Test.INET_STREAM,
            concat(ProxyHeaderV2Test.INET6_DGRAM, ascii("dns query")),
            hex(V2_SIGNATURE_HEX + "20 00 0000"),
            hex(V2_SIGNATURE_HEX + "21 00 0000"),
            concat(hex(V2_SIGNATURE_HEX + "21 32 00d8"), new byte[216]),
            ProxyHeaderV2Test.v2WithTlvs(ProxyHeaderV2Test.INET_STREAM, hex("01 0002 6832 04 0000 20 0005 0100000000")),
            ProxyHeaderV2Test.withCrc32c(ProxyHeaderV2Test.INET6_DGRAM));

    private final Map<String, Integer> streamOutcomes = new TreeMap<>();
    /** Reused: the inputs stay far below its size (the longest random input is 2,000 bytes, mutations add little). */
    private final ByteBuffer direct = ByteBuffer.allocateDirect(64 * 1024);
    private final Map<String, Integer> datagramOutcomes = new TreeMap<>();

    @Test
    void randomAndMutatedInputsAlwaysGiveOneOfTheFourOutcomes() {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < INPUTS; i++) {
            check(randomInput(random), "random");
        }
        for (int i = 0; i < INPUTS; i++) {
            check(mutatedInput(random), "mutated");
        }

        System.out.println("proxy header fuzz, " + 2 * INPUTS + " inputs per parser, seed " + SEED);
        System.out.println("  stream:   " + streamOutcomes);
        System.out.println("  datagram: " + datagramOutcomes);
        // The inputs must reach every outcome, or the fuzzing says little.
        for (String kind : new String[] {"random/parsed", "random/need_more", "random/not_proxy", "mutated/parsed",
            "mutated/need_more", "mutated/not_proxy", "mutated/bad_syntax", "mutated/bad_address", "mutated/bad_port",
            "mutated/bad_family", "mutated/bad_version", "mutated/bad_length", "mutated/bad_tlv", "mutated/too_long"}) {
            assertTrue(streamOutcomes.getOrDefault(kind, 0) > 0, "no " + kind + " in " + streamOutcomes);
        }
        assertTrue(datagramOutcomes.getOrDefault("mutated/truncated", 0) > 0, datagramOutcomes.toString());
        assertTrue(datagramOutcomes.getOrDefault("mutated/parsed", 0) > 0, datagramOutcomes.toString());
    }

    private void check(byte[] input, String kind) {
        ParseResult stream = run(input, false);
        ParseResult datagram = run(input, true);
        count(streamOutcomes, kind, stream);
        count(datagramOutcomes, kind, datagram);
        assertNotEquals(NeedMore.class, datagram.getClass(), () -> "datagram " + describe(input));
    }

    /** Parses from a byte[] and from a direct buffer (at an offset): same outcome, never an exception. */
    private ParseResult run(byte[] input, boolean datagram) {
        ParseResult fromArray;
        ParseResult fromBuffer;
        direct.clear().put(new byte[] {1, 2, 3}).put(input).flip().position(3);
        try {
            fromArray = datagram
                    ? ProxyHeaderParser.parseDatagram(input, 0, input.length)
                    : ProxyHeaderParser.parse(input, 0, input.length);
            fromBuffer = datagram ? ProxyHeaderParser.parseDatagram(direct) : ProxyHeaderParser.parse(direct);
        } catch (RuntimeException | Error e) {
            throw new AssertionError((datagram ? "datagram " : "stream ") + describe(input), e);
        }
        assertEquals(fromArray, fromBuffer, () -> describe(input));
        assertEquals(3, direct.position());
        assertNotNull(fromArray);
        switch (fromArray) {
            case Parsed p -> checkParsed(p.header(), input, datagram);
            case NeedMore m -> assertTrue(m.atLeast() >= 1
                    && input.length + m.atLeast() <= ProxyHeader.V2_MAX_LENGTH, () -> m + " " + describe(input));
            case NotProxy n -> assertEquals(ParseResult.NOT_PROXY, n);
            case Invalid inv -> assertNotNull(inv.reason());
        }
        return fromArray;
    }

    private static void checkParsed(ProxyHeader h, byte[] input, boolean datagram) {
        assertTrue(h.length() >= ProxyHeader.MIN_LENGTH && h.length() <= input.length, () -> h + " " + describe(input));
        assertTrue(h.version() == 1 ? h.length() <= ProxyHeader.V1_MAX_LENGTH : h.version() == 2, h::toString);
        assertEquals(h.source() == null, h.destination() == null, h::toString);
        if (h.command() == Command.LOCAL) {
            assertEquals(null, h.source());
        }
        // the header alone, without what follows it, is the same header
        byte[] own = Arrays.copyOf(input, h.length());
        ParseResult again = datagram
                ? ProxyHeaderParser.parseDatagram(own, 0, own.length)
                : ProxyHeaderParser.parse(own, 0, own.length);
        assertEquals(new Parsed(h), again, () -> describe(input));
    }

    private static byte[] randomInput(SplittableRandom r) {
        int length = r.nextInt(8) == 0 ? r.nextInt(2_000) : r.nextInt(120);
        byte[] b = new byte[length];
        switch (r.nextInt(4)) {
            case 0 -> r.nextBytes(b);
            case 1 -> { // "PROXY " and characters a line is made of
                for (int i = 0; i < length; i++) {
                    b[i] = V1_ALPHABET[r.nextInt(V1_ALPHABET.length)];
                }
                System.arraycopy(ascii("PROXY "), 0, b, 0, Math.min(6, length));
            }
            case 2 -> { // the v2 signature, then anything, with a small length field more often than not
                r.nextBytes(b);
                byte[] sig = hex(V2_SIGNATURE_HEX + "21");
                System.arraycopy(sig, 0, b, 0, Math.min(sig.length, length));
                if (length >= 16 && r.nextBoolean()) {
                    int len = r.nextInt(Math.max(1, length - 15));
                    b[14] = (byte) (len >>> 8);
                    b[15] = (byte) len;
                }
            }
            default -> { // a valid header's first bytes, then noise
                byte[] seed = CORPUS.get(r.nextInt(CORPUS.size()));
                r.nextBytes(b);
                System.arraycopy(seed, 0, b, 0, Math.min(seed.length, r.nextInt(length + 1)));
            }
        }
        return b;
    }

    private static byte[] mutatedInput(SplittableRandom r) {
        byte[] b = CORPUS.get(r.nextInt(CORPUS.size())).clone();
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            b = mutate(b, r);
        }
        return b;
    }

    private static byte[] mutate(byte[] b, SplittableRandom r) {
        int n = b.length;
        int at = n == 0 ? 0 : r.nextInt(n);
        switch (r.nextInt(8)) {
            case 0 -> { // flip one bit
                if (n > 0) {
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // one byte from the line alphabet (deeper into the v1 grammar), or anything
                if (n > 0) {
                    b[at] = r.nextBoolean() ? V1_ALPHABET[r.nextInt(V1_ALPHABET.length)] : (byte) r.nextInt(256);
                }
            }
            case 2 -> b = Arrays.copyOf(b, r.nextInt(n + 1)); // truncate
            case 3 -> { // edit the v2 length field: small change, zero, huge
                if (n >= 16) {
                    int len = ((b[14] & 0xFF) << 8) | (b[15] & 0xFF);
                    int edited = switch (r.nextInt(4)) {
                        case 0 -> len + r.nextInt(9) - 4;
                        case 1 -> 0;
                        case 2 -> 0xFFFF;
                        default -> r.nextInt(0x10000);
                    };
                    b[14] = (byte) (edited >>> 8);
                    b[15] = (byte) edited;
                }
            }
            case 4 -> { // insert bytes
                byte[] extra = new byte[1 + r.nextInt(r.nextBoolean() ? 4 : 120)];
                if (r.nextBoolean()) {
                    r.nextBytes(extra);
                } else {
                    for (int i = 0; i < extra.length; i++) {
                        extra[i] = V1_ALPHABET[r.nextInt(V1_ALPHABET.length)];
                    }
                }
                b = concat(Arrays.copyOf(b, at), extra, Arrays.copyOfRange(b, at, n));
            }
            case 5 -> { // delete a few bytes
                int count = Math.min(n - at, 1 + r.nextInt(4));
                b = concat(Arrays.copyOf(b, at), Arrays.copyOfRange(b, at + count, n));
            }
            case 6 -> { // edit a v2 TLV area byte or family/command byte
                if (n > 13) {
                    b[12 + r.nextInt(2)] = (byte) r.nextInt(256);
                }
            }
            default -> { // duplicate a piece
                int count = Math.min(n - at, 1 + r.nextInt(16));
                b = concat(Arrays.copyOf(b, at + count), Arrays.copyOfRange(b, at, n));
            }
        }
        return b;
    }

    private static void count(Map<String, Integer> outcomes, String kind, ParseResult r) {
        String outcome = switch (r) {
            case Parsed p -> "parsed";
            case NeedMore m -> "need_more";
            case NotProxy n -> "not_proxy";
            case Invalid i -> i.label();
        };
        outcomes.merge(kind + "/" + outcome, 1, Integer::sum);
    }

    private static String describe(byte[] input) {
        return "input (" + input.length + " bytes): " + HexFormat.of().formatHex(input, 0, Math.min(input.length, 300));
    }
}
