package dev.aegis.tls;

import static dev.aegis.tls.Hellos.concat;
import static dev.aegis.tls.Hellos.extension;
import static dev.aegis.tls.Hellos.hello;
import static dev.aegis.tls.Hellos.serverName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.tls.ClientHelloResult.Invalid;
import dev.aegis.tls.ClientHelloResult.Sni;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClientHelloParserTest {

    static List<Hellos.Real> realHellos() {
        return Hellos.jdk();
    }

    private static ClientHelloResult parse(byte[] bytes) {
        return ClientHelloParser.parse(bytes, 0, bytes.length);
    }

    private static ClientHelloResult parse(String text) {
        return parse(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    // ---- real hellos ---------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("realHellos")
    void findsTheServerNameOfAJdkHello(Hellos.Real hello) {
        assertEquals(hello.expected(), parse(hello.bytes()));
    }

    @ParameterizedTest
    @MethodSource("realHellos")
    void everyPrefixOfAJdkHelloNeedsMore(Hellos.Real hello) {
        assertEveryPrefixNeedsMore(hello.bytes(), hello.expected());
    }

    @ParameterizedTest
    @MethodSource("realHellos")
    void aJdkHelloCutIntoSmallRecordsStillParses(Hellos.Real hello) {
        byte[] message = Hellos.handshakeBytes(hello.bytes());
        for (int size : new int[] {1, 2, 3, 4, 5, 7, 64, 300, message.length - 1}) {
            byte[] records = Hellos.records(message, size);
            assertEquals(hello.expected(), parse(records), "records of " + size + " bytes");
        }
        // 1-byte records: the 4-byte handshake header and every length field span records
        assertEveryPrefixNeedsMore(Hellos.records(message, 1), hello.expected());
        assertEveryPrefixNeedsMore(Hellos.records(message, 3), hello.expected());
    }

    @Test
    void findsTheServerNameOfAnOpensslHello() throws Exception {
        Path openssl = Hellos.openssl();
        assumeTrue(openssl != null, "openssl is not installed");

        byte[] hello = Hellos.openssl(openssl, "X.test");

        assertEquals(new Sni("x.test"), parse(hello));
        assertEveryPrefixNeedsMore(hello, new Sni("x.test"));
        assertEquals(new Sni("x.test"), parse(Hellos.records(Hellos.handshakeBytes(hello), 5)));
    }

    @Test
    void bytesAfterTheHelloAreNotRead() {
        byte[] hello = Hellos.jdk("TLSv1.3", "x.test", true);
        byte[] changeCipherSpec = {20, 3, 3, 0, 1, 1};
        byte[] earlyData = {23, 3, 3, 0x40, 0, 1, 2, 3}; // claims 16 KiB, has 3 bytes
        assertEquals(new Sni("x.test"), parse(concat(hello, changeCipherSpec, earlyData)));
        assertEquals(new Sni("x.test"), parse(concat(hello, "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void readsFromPositionToLimitOfADirectBufferAndMovesNeither() {
        byte[] hello = Hellos.jdk("TLSv1.3", "x.test", false);
        ByteBuffer buffer = ByteBuffer.allocateDirect(hello.length + 20);
        buffer.put(new byte[7]).put(hello).put(new byte[13]);
        buffer.position(7).limit(7 + hello.length);

        assertEquals(new Sni("x.test"), ClientHelloParser.parse(buffer));
        assertEquals(7, buffer.position());
        assertEquals(7 + hello.length, buffer.limit());
        buffer.limit(7 + hello.length - 1);
        assertEquals(ClientHelloResult.NEED_MORE, ClientHelloParser.parse(buffer));
    }

    @Test
    void parsingAllocatesNothingButTheName() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        ByteBuffer noSni = direct(Hellos.jdk("TLSv1.3", null, true));
        ByteBuffer fragmented = direct(Hellos.records(Hellos.handshakeBytes(Hellos.jdk("TLSv1.2", null, true)), 3));
        ByteBuffer prefix = direct(Arrays.copyOf(Hellos.jdk("TLSv1.3", "x.test", true), 300));
        ByteBuffer invalid = direct(hello(serverName("a.test"), serverName("b.test")));
        ByteBuffer[] inputs = {noSni, fragmented, prefix, invalid};
        for (int i = 0; i < 20_000; i++) { // let the JIT settle first
            parseAll(inputs);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000; i++) {
            parseAll(inputs);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        // An object per parse would be 16 bytes or more each; the few bytes left are the
        // measurement's own (the allocation counter's bookkeeping, a JIT deoptimization).
        assertTrue(allocated < 4_000, allocated + " bytes allocated by 4,000 parses without a name");
    }

    private static void parseAll(ByteBuffer[] buffers) {
        for (ByteBuffer buffer : buffers) {
            if (ClientHelloParser.parse(buffer) instanceof Sni) {
                throw new AssertionError();
            }
        }
    }

    private static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    // ---- names ---------------------------------------------------------------------------------

    @Test
    void lowerCasesTheNameAndDropsOneTrailingDot() {
        assertEquals(new Sni("www.example.com"), parse(hello(serverName("WWW.Example.COM"))));
        assertEquals(new Sni("x.test"), parse(hello(serverName("x.test."))));
        assertEquals(new Sni("_acme-challenge.x-1.test"), parse(hello(serverName("_acme-challenge.x-1.test"))));
        assertEquals(new Sni("localhost"), parse(hello(serverName("localhost"))));
        String longest = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61);
        assertEquals(new Sni(longest), parse(hello(serverName(longest))));
        assertEquals(new Sni(longest), parse(hello(serverName(longest + "."))));
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "x.test..", ".x.test", "a..test", "a b.test", "x.test\u0000", "\u00e9.test",
            "a/b", "x.test:443", "[::1]"})
    void refusesANameThatIsNotADnsName(String name) {
        assertEquals(ClientHelloParser.BAD_HOST_NAME, parse(hello(serverName(name))));
    }

    @Test
    void refusesNamesTooLongForDns() {
        assertEquals(ClientHelloParser.BAD_HOST_NAME, parse(hello(serverName("a".repeat(64) + ".test"))));
        String name254 = ("a".repeat(62) + ".").repeat(4) + "ab"; // 254 characters
        assertEquals(ClientHelloParser.BAD_HOST_NAME, parse(hello(serverName(name254))));
        assertEquals(ClientHelloParser.BAD_HOST_NAME, parse(hello(serverName("a".repeat(4000)))));
    }

    @Test
    void aServerNameListWithOtherNameTypesOnlyHasNoSni() {
        byte[] otherType = {0, 6, 7, 0, 3, 'a', '.', 'b'};
        assertEquals(ClientHelloResult.NO_SNI, parse(hello(extension(0, otherType))));
        byte[] otherThenHost = {0, 13, 7, 0, 1, 'z', 0, 0, 6, 'x', '.', 't', 'e', 's', 't'};
        assertEquals(new Sni("x.test"), parse(hello(extension(0, otherThenHost))));
    }

    @Test
    void aHelloWithoutExtensionsOrWithOthersOnlyHasNoSni() {
        assertEquals(ClientHelloResult.NO_SNI, parse(Hellos.records(Hellos.message(null), 100)));
        assertEquals(ClientHelloResult.NO_SNI, parse(hello()));
        assertEquals(ClientHelloResult.NO_SNI, parse(hello(extension(16, new byte[] {0, 3, 2, 'h', '2'}),
                extension(0xff01, new byte[] {0}))));
        assertEquals(new Sni("x.test"), parse(hello(extension(16, new byte[] {0, 3, 2, 'h', '2'}),
                serverName("x.test"), extension(43, new byte[] {2, 3, 4}))));
    }

    // ---- not TLS -------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1\r\nHost: x.test\r\n\r\n", "G", "SSH-2.0-OpenSSH_9.6\r\n",
            "220 mail.example.com ESMTP\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\u0016\u0002", "\u0016\u0003\u0005",
            "\u0016\u0004\u0001\u0000\u0005", "\u0015\u0003\u0003\u0000\u0002\u0002\u0028", "\u0000"})
    void otherProtocolsAreNotTls(String start) {
        assertEquals(ClientHelloResult.NOT_TLS, parse(start));
    }

    @Test
    void anSslV2CompatibleHelloIsNotTls() {
        // 2-byte header with the high bit set, then CLIENT-HELLO (1) offering version 3.1
        byte[] sslv2 = {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
        assertEquals(ClientHelloResult.NOT_TLS, parse(sslv2));
    }

    @Test
    void noBytesOrOnlyTheFirstBytesOfARecordHeaderNeedMore() {
        // Nothing sent yet could still become a hello: silence is for the caller's timeout to end.
        assertEquals(ClientHelloResult.NEED_MORE, parse(new byte[0]));
        assertEquals(ClientHelloResult.NEED_MORE, parse(new byte[] {22}));
        assertEquals(ClientHelloResult.NEED_MORE, parse(new byte[] {22, 3}));
        assertEquals(ClientHelloResult.NEED_MORE, parse(new byte[] {22, 3, 1, 0}));
    }

    // ---- invalid -------------------------------------------------------------------------------

    @Test
    void aHandshakeMessageOtherThanClientHelloIsInvalid() {
        byte[] serverHello = Hellos.records(Hellos.handshake(2, new byte[40]), 100);
        assertEquals(ClientHelloParser.NOT_CLIENT_HELLO, parse(serverHello));
        assertEquals(ClientHelloParser.NOT_CLIENT_HELLO, parse(Arrays.copyOf(serverHello, 6)));
    }

    @Test
    void badRecordHeadersAreInvalid() {
        assertEquals(ClientHelloParser.EMPTY_RECORD, parse(new byte[] {22, 3, 1, 0, 0}));
        assertEquals(ClientHelloParser.RECORD_TOO_LONG, parse(new byte[] {22, 3, 1, 0x40, 1, 1}));
        byte[] message = Hellos.handshakeBytes(Hellos.jdk("TLSv1.3", "x.test", false));
        byte[] split = Hellos.records(message, 100);
        byte[] alert = split.clone();
        alert[105] = 21;
        assertEquals(ClientHelloParser.BAD_RECORD_TYPE, parse(alert));
        assertEquals(ClientHelloParser.BAD_RECORD_TYPE, parse(Arrays.copyOf(alert, 106)));
        byte[] version = split.clone();
        version[106] = 2;
        assertEquals(ClientHelloParser.BAD_RECORD_VERSION, parse(version));
        byte[] minor = split.clone();
        minor[107] = 5;
        assertEquals(ClientHelloParser.BAD_RECORD_VERSION, parse(Arrays.copyOf(minor, 108)));
        byte[] empty = concat(Arrays.copyOf(split, 105), new byte[] {22, 3, 3, 0, 0}, Arrays.copyOfRange(split, 105, split.length));
        assertEquals(ClientHelloParser.EMPTY_RECORD, parse(empty));
    }

    @Test
    void aHelloThatCannotFitIn16KibIsInvalid() {
        // declared larger than what 16 KiB can hold
        byte[] huge = {22, 3, 1, 0x40, 0, 1, 0, 0x40, 0};
        assertEquals(ClientHelloParser.TOO_LARGE, parse(huge));
        // declared to fit in one record, but cut into 1-byte records it needs 6 bytes a byte
        byte[] message = Hellos.message(extension(21, new byte[8000]));
        byte[] tiny = Hellos.records(message, 1);
        assertEquals(ClientHelloParser.TOO_LARGE, parse(Arrays.copyOf(tiny, ClientHelloParser.MAX_BYTES)));
        assertEquals(ClientHelloParser.TOO_LARGE, parse(tiny));
        assertEquals(ClientHelloResult.NEED_MORE, parse(Arrays.copyOf(tiny, ClientHelloParser.MAX_BYTES - 1)));
        // the largest hello that fits: one record of 16,379 bytes, 16 KiB in all
        int padding = ClientHelloParser.MAX_BYTES - 5 - 4 - 41 - 2 - 15 - 4;
        byte[] largest = hello(extension(21, new byte[padding]), serverName("x.test"));
        assertEquals(ClientHelloParser.MAX_BYTES, largest.length);
        assertEquals(new Sni("x.test"), parse(largest));
        assertEquals(ClientHelloParser.TOO_LARGE, parse(hello(extension(21, new byte[padding + 1]), serverName("x.test"))));
    }

    @Test
    void badFieldsOfTheHelloAreInvalid() {
        byte[] good = Hellos.handshakeBytes(hello(serverName("x.test")));
        assertEquals(new Sni("x.test"), parse(Hellos.records(good, 1000)));

        assertInvalid(ClientHelloParser.BAD_CLIENT_VERSION, good, 4, 2);
        assertInvalid(ClientHelloParser.BAD_SESSION_ID, good, 38, 33);
        assertInvalid(ClientHelloParser.TRUNCATED, good, 38, 32);
        assertInvalid(ClientHelloParser.BAD_CIPHER_SUITES, good, 40, 3);
        assertInvalid(ClientHelloParser.BAD_CIPHER_SUITES, good, 40, 0);
        assertInvalid(ClientHelloParser.NO_COMPRESSION, good, 43, 0);
        assertInvalid(ClientHelloParser.BAD_EXTENSIONS_LENGTH, good, 46, good[46] + 1);
        assertInvalid(ClientHelloParser.BAD_EXTENSIONS_LENGTH, good, 46, good[46] - 1);
        assertInvalid(ClientHelloParser.BAD_EXTENSION, good, 50, good[50] + 1);       // extension length
        assertInvalid(ClientHelloParser.BAD_SERVER_NAME_LIST, good, 52, good[52] - 1); // list length
        assertInvalid(ClientHelloParser.BAD_SERVER_NAME_LIST, good, 55, good[55] + 1); // name length

        byte[] shortBody = Hellos.handshake(1, new byte[] {3, 3, 0, 0});
        assertEquals(ClientHelloParser.TRUNCATED, parse(Hellos.records(shortBody, 100)));
        byte[] noExtensions = Hellos.message(null);
        byte[] oneExtraByte = Hellos.handshake(1, concat(Arrays.copyOfRange(noExtensions, 4, noExtensions.length),
                new byte[] {0}));
        assertEquals(ClientHelloParser.BAD_EXTENSIONS_LENGTH, parse(Hellos.records(oneExtraByte, 100)));
        assertEquals(ClientHelloParser.BAD_EXTENSION, parse(hello(new byte[] {0, 16, 0})));
    }

    @Test
    void aRepeatedOrEmptyServerNameIsInvalid() {
        assertEquals(ClientHelloParser.TWO_SERVER_NAMES, parse(hello(serverName("a.test"), serverName("a.test"))));
        assertEquals(ClientHelloParser.TWO_HOST_NAMES, parse(hello(serverName("a.test", "b.test"))));
        assertEquals(ClientHelloParser.BAD_SERVER_NAME_LIST, parse(hello(serverName())));
        assertEquals(ClientHelloParser.BAD_SERVER_NAME_LIST, parse(hello(extension(0, new byte[0]))));
        assertEquals(ClientHelloParser.BAD_SERVER_NAME_LIST, parse(hello(extension(0, new byte[] {0, 2, 0, 0}))));
        assertEquals(ClientHelloParser.BAD_HOST_NAME, parse(hello(serverName(""))));
    }

    @Test
    void aBadExtensionAfterTheServerNameIsStillInvalid() {
        byte[] bad = hello(serverName("x.test"), new byte[] {0, 16, 0, 9, 1});
        assertEquals(ClientHelloParser.BAD_EXTENSION, parse(bad));
    }

    /** {@code message} with byte {@code at} set to {@code value}, in records of 10 bytes, fails so. */
    private static void assertInvalid(Invalid expected, byte[] message, int at, int value) {
        byte[] changed = message.clone();
        changed[at] = (byte) value;
        assertEquals(expected, parse(Hellos.records(changed, 10)), "byte " + at + " = " + value);
        assertEquals(expected, parse(Hellos.records(changed, 1000)), "byte " + at + " = " + value);
    }

    private static void assertEveryPrefixNeedsMore(byte[] hello, ClientHelloResult complete) {
        for (int length = 0; length < hello.length; length++) {
            ClientHelloResult result = ClientHelloParser.parse(hello, 0, length);
            if (result != ClientHelloResult.NEED_MORE) {
                assertEquals(ClientHelloResult.NEED_MORE, result, "prefix of " + length + " of " + hello.length);
            }
        }
        assertEquals(complete, ClientHelloParser.parse(hello, 0, hello.length));
    }
}
