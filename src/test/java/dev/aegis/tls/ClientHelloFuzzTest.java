package dev.aegis.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.tls.ClientHelloResult.Invalid;
import dev.aegis.tls.ClientHelloResult.NeedMore;
import dev.aegis.tls.ClientHelloResult.NoSni;
import dev.aegis.tls.ClientHelloResult.NotTls;
import dev.aegis.tls.ClientHelloResult.Sni;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input: 100,000 random byte strings and 100,000 real hellos damaged at random (fixed
 * seeds, so a failure repeats). Each must give one of the five outcomes without an exception or a
 * hang, leave the buffer as it was, and any name it returns must be a lower-case DNS name.
 */
class ClientHelloFuzzTest {

    private static final int INPUTS = 100_000;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void randomBytesGiveAnOutcomeAndNeverThrow() {
        Random random = new Random(0x5EED_0001L);
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = randomInput(random);
            count(counts, check(input));
        }
        System.out.println("ClientHelloFuzzTest random: " + counts);
        assertEquals(INPUTS, counts.values().stream().mapToInt(Integer::intValue).sum());
        // the inputs that look like TLS must reach the deeper checks, or the test tests little
        assertTrue(counts.keySet().stream().filter(k -> k.startsWith("Invalid")).count() >= 5, counts.toString());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void damagedRealHellosGiveAnOutcomeAndNeverThrow() {
        Random random = new Random(0x5EED_0002L);
        List<byte[]> seeds = seeds();
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = seeds.get(random.nextInt(seeds.size()));
            int mutations = 1 + random.nextInt(random.nextInt(8) + 1);
            for (int m = 0; m < mutations; m++) {
                input = mutate(input, random);
            }
            count(counts, check(input));
        }
        System.out.println("ClientHelloFuzzTest mutated: " + counts);
        assertEquals(INPUTS, counts.values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(counts.getOrDefault("Sni", 0) > 0 && counts.getOrDefault("NeedMore", 0) > 0
                && counts.getOrDefault("NotTls", 0) > 0 && counts.getOrDefault("NoSni", 0) > 0, counts.toString());
    }

    /** Parses from an offset in a larger buffer and checks the outcome's promises. */
    private static ClientHelloResult check(byte[] input) {
        ByteBuffer buffer = ByteBuffer.allocate(input.length + 6);
        buffer.position(3).put(input).flip().position(3);
        ClientHelloResult result = ClientHelloParser.parse(buffer);
        assertNotNull(result);
        assertEquals(3, buffer.position());
        assertEquals(3 + input.length, buffer.limit());
        if (result instanceof Sni(String name)) {
            assertNull(DnsNames.problem(name), name);
            assertEquals(name.toLowerCase(java.util.Locale.ROOT), name);
        }
        return result;
    }

    private static void count(Map<String, Integer> counts, ClientHelloResult result) {
        String key = switch (result) {
            case NeedMore n -> "NeedMore";
            case Sni s -> "Sni";
            case NoSni n -> "NoSni";
            case NotTls n -> "NotTls";
            case Invalid invalid -> "Invalid(" + invalid.reason() + ")";
        };
        counts.merge(key, 1, Integer::sum);
    }

    /**
     * Random bytes, most of them behind a plausible record header (else nearly all would stop at
     * the first byte), some of them long enough to reach the 16 KiB limit.
     */
    private static byte[] randomInput(Random random) {
        int length = random.nextInt(20) == 0 ? random.nextInt(20_000) : random.nextInt(300);
        byte[] input = new byte[length];
        random.nextBytes(input);
        int shape = random.nextInt(4);
        if (shape >= 1 && length >= 5) { // a handshake record header with a random length
            input[0] = 22;
            input[1] = 3;
            input[2] = (byte) random.nextInt(5);
            if (shape >= 2 && length >= 9) { // a ClientHello header whose length fits the record
                int recordLength = Math.min(length - 5, 1 << 14);
                input[3] = (byte) (recordLength >>> 8);
                input[4] = (byte) recordLength;
                input[5] = 1;
                int helloLength = Math.max(0, recordLength - 4 - (shape == 3 ? random.nextInt(3) : 0));
                input[6] = (byte) (helloLength >>> 16);
                input[7] = (byte) (helloLength >>> 8);
                input[8] = (byte) helloLength;
                if (shape == 3 && length >= 80) { // version 3.3 and a short session id: on to the lists
                    input[9] = 3;
                    input[10] = 3;
                    input[43] = (byte) random.nextInt(33);
                    input[44 + (input[43] & 0xff)] = 0;
                }
            }
        }
        return input;
    }

    /** Real hellos in one record, in small records, and hand-built ones with odd extensions. */
    private static List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        for (Hellos.Real real : Hellos.jdk()) {
            seeds.add(real.bytes());
            byte[] message = Hellos.handshakeBytes(real.bytes());
            seeds.add(Hellos.records(message, 7));
            seeds.add(Hellos.records(message, 50));
        }
        seeds.add(Hellos.hello(Hellos.serverName("a.test"), Hellos.extension(16, new byte[] {0, 3, 2, 'h', '2'})));
        seeds.add(Hellos.records(Hellos.message(null), 20));
        seeds.add(Hellos.hello(Hellos.extension(0, new byte[] {0, 6, 7, 0, 3, 'a', '.', 'b'})));
        return seeds;
    }

    private static byte[] mutate(byte[] input, Random random) {
        if (input.length == 0) {
            return new byte[] {(byte) random.nextInt(256)};
        }
        int at = random.nextInt(input.length);
        return switch (random.nextInt(7)) {
            case 0 -> { // flip one bit
                byte[] out = input.clone();
                out[at] ^= (byte) (1 << random.nextInt(8));
                yield out;
            }
            case 1 -> Arrays.copyOf(input, at); // truncate
            case 2 -> { // edit a length: most length fields are the first 60 bytes or 2-byte values
                byte[] out = input.clone();
                int where = random.nextBoolean() ? random.nextInt(Math.min(60, input.length)) : at;
                int[] values = {0, 1, 0xff, out[where] + 1, out[where] - 1, random.nextInt(256)};
                out[where] = (byte) values[random.nextInt(values.length)];
                yield out;
            }
            case 3 -> { // insert bytes
                byte[] inserted = new byte[1 + random.nextInt(4)];
                random.nextBytes(inserted);
                yield Hellos.concat(Arrays.copyOf(input, at), inserted, Arrays.copyOfRange(input, at, input.length));
            }
            case 4 -> { // delete bytes
                int to = Math.min(input.length, at + 1 + random.nextInt(4));
                yield Hellos.concat(Arrays.copyOf(input, at), Arrays.copyOfRange(input, to, input.length));
            }
            case 5 -> { // repeat a range (duplicated extensions, doubled names)
                int to = Math.min(input.length, at + 1 + random.nextInt(40));
                yield Hellos.concat(Arrays.copyOf(input, to), Arrays.copyOfRange(input, at, input.length));
            }
            default -> { // overwrite a random 16-bit value
                byte[] out = input.clone();
                out[at] = (byte) random.nextInt(256);
                if (at + 1 < out.length) {
                    out[at + 1] = (byte) random.nextInt(256);
                }
                yield out;
            }
        };
    }
}
