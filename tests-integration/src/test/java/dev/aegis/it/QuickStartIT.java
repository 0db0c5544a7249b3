package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.DatagramSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's quick start, run as a person would: {@code bin/aegis demo} in the background,
 * {@code curl -s localhost:8080} nine times, a UDP datagram to 8081, then Ctrl-C (SIGINT).
 * The demo uses fixed ports, so this class runs first (failsafe orders classes by {@code @Order})
 * and no other test uses those ports.
 */
@Order(1)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QuickStartIT {

    private static final int[] TCP_PORTS = {3000, 3001, 3002, 8080, 9090, 9091};
    private static final int[] UDP_PORTS = {5001, 5002, 5003, 8081};

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    @Test
    void readmeQuickStartServesBackendsInTurnAndStopsOnCtrlC() throws IOException {
        assertDemoPortsFree();
        AegisProcess demo = resources.add(AegisProcess.demo());
        assertEquals(8080, demo.tcp().getPort());

        List<String> servers = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            CommandLine.Result curl = CommandLine.run(AegisProcess.home(), 30, "curl", "-s", "localhost:8080");
            assertEquals(0, curl.exitCode(), curl::output);
            servers.add(Clients.serverOf(curl.output()));
        }
        assertEquals(List.of("backend1", "backend2", "backend3", "backend1", "backend2", "backend3",
                "backend1", "backend2", "backend3"), servers);

        // What the demo prints to try next: echo hello | nc -u -w1 127.0.0.1 8081
        try (UdpClient udp = new UdpClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), 8081))) {
            String reply = udp.ask("hello\n", 5_000);
            assertTrue(reply != null && reply.matches("backend[123]: hello\n"), "UDP reply: " + reply);
        }
        assertTrue(demo.logText().contains("Try, in another terminal"), "the demo says what to try");

        demo.signal("INT");
        assertEquals(0, demo.awaitExit(Duration.ofSeconds(40)), demo.tail(20));
        assertDemoPortsFree(); // the demo backends stopped with the proxy
    }

    private static void assertDemoPortsFree() {
        for (int port : TCP_PORTS) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (IOException e) {
                fail("TCP port " + port + " is in use: the demo needs it (is a demo or another Aegis running?)");
            }
        }
        for (int port : UDP_PORTS) {
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                s.getLocalPort();
            } catch (IOException e) {
                fail("UDP port " + port + " is in use: the demo needs it");
            }
        }
    }
}
