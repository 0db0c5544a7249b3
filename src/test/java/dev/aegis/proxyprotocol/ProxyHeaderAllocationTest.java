package dev.aegis.proxyprotocol;

import static dev.aegis.proxyprotocol.Bytes.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.proxyprotocol.ProxyHeader.Transport;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the codec allocates per call once JIT-compiled, with HotSpot's per-thread allocation counter:
 * waiting for more bytes and refusing allocate nothing (a hostile peer costs no garbage), and the
 * encoder writes into the caller's buffer with no more than the JDK's copy of the address bytes.
 */
@Tag("allocation") // measured on JIT-compiled code: its own surefire execution, not the functional suite
class ProxyHeaderAllocationTest {

    private static final int WARM_UP = 50_000;
    private static final int MEASURED = 200_000;

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void waitingAndRefusingAllocateNothing() {
        byte[] v1Prefix = ascii("PROXY TCP4 192.168.0.1 192.168.0.11 563");
        byte[] v2 = ProxyHeaderV2Test.INET_STREAM;
        byte[] badPort = ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 4430000\r\n");
        byte[] http = ascii("GET / HTTP/1.1\r\n");
        ByteBuffer v1Buffer = direct(v1Prefix);
        ByteBuffer v2Buffer = direct(v2).limit(20);
        ByteBuffer badPortBuffer = direct(badPort);
        ByteBuffer httpBuffer = direct(http);

        double v1Wait = perCall(() -> ProxyHeaderParser.parse(v1Buffer).hashCode());
        double v2Wait = perCall(() -> ProxyHeaderParser.parse(v2Buffer).hashCode());
        double truncated = perCall(() -> ProxyHeaderParser.parseDatagram(v2Buffer).hashCode());
        double refused = perCall(() -> ProxyHeaderParser.parse(badPortBuffer).hashCode());
        double notProxy = perCall(() -> ProxyHeaderParser.parse(httpBuffer).hashCode());
        double fromArray = perCall(() -> ProxyHeaderParser.parse(badPort, 0, badPort.length).hashCode());
        System.out.printf("proxy header parse allocation: v1 prefix %.2f, v2 prefix %.2f, truncated datagram %.2f, "
                + "refused %.2f, not a header %.2f B/call; refused from a byte[] %.2f B/call%n",
                v1Wait, v2Wait, truncated, refused, notProxy, fromArray);

        for (double bytes : new double[] {v1Wait, v2Wait, truncated, refused, notProxy}) {
            assertTrue(bytes < 4, bytes + " B per call");
        }
        // the byte[] variant: the ByteBuffer that wraps the array (48-56 B), nothing more
        assertTrue(fromArray <= 64, fromArray + " B per call");
    }

    private static ByteBuffer direct(byte[] content) {
        return ByteBuffer.allocateDirect(content.length).put(content).flip();
    }

    @Test
    void encodingIntoACallersBufferAllocatesAtMostTheAddressCopies() throws Exception {
        InetSocketAddress client = ProxyHeaderEncoderTest.at("192.0.2.1", 40000);
        InetSocketAddress listener = ProxyHeaderEncoderTest.at("198.51.100.1", 53);
        InetSocketAddress client6 = ProxyHeaderEncoderTest.at("2001:db8::1", 40000);
        InetSocketAddress listener6 = ProxyHeaderEncoderTest.at("2001:db8::53", 53);
        ByteBuffer out = ByteBuffer.allocateDirect(ProxyHeaderEncoder.V1_ROOM);

        double v2 = perCall(() -> ProxyHeaderEncoder.writeV2(Transport.UDP, client, listener, out.clear()));
        double v2six = perCall(() -> ProxyHeaderEncoder.writeV2(Transport.UDP, client6, listener6, out.clear()));
        double v1 = perCall(() -> ProxyHeaderEncoder.writeV1(client, listener, out.clear()));
        double v1six = perCall(() -> ProxyHeaderEncoder.writeV1(client6, listener6, out.clear()));
        System.out.printf("proxy header encode allocation: v2 INET %.2f, v2 INET6 %.2f, v1 TCP4 %.2f, v1 TCP6 %.2f B/call%n",
                v2, v2six, v1, v1six);
        assertEquals(28, ProxyHeaderEncoder.writeV2(Transport.UDP, client, listener, out.clear()));

        // InetAddress.getAddress() hands out a copy of the address (24 B for IPv4, 32 B for IPv6 with
        // the array header): two per header at most, nothing of our own.
        assertTrue(v2 < 50 && v1 < 50, v2 + " / " + v1 + " B per call");
        assertTrue(v2six < 66 && v1six < 66, v2six + " / " + v1six + " B per call");
    }

    private double perCall(IntSupplier call) {
        long sink = 0;
        for (int i = 0; i < WARM_UP; i++) {
            sink += call.getAsInt();
        }
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < MEASURED; i++) {
            sink += call.getAsInt();
        }
        long after = threads.getThreadAllocatedBytes(tid);
        assertTrue(sink != 42, "keeps the results alive");
        return (after - before) / (double) MEASURED;
    }
}
