package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Listeners on {@code [::1]}: TCP and UDP write an IPv6 address the same way, in brackets and in
 * its short form ({@code [::1]:5555}), in the access log and the startup line, as operators paste it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class Ipv6AddressesIT {

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    @Test
    void tcpAndUdpWriteAnIpv6ClientInBracketsInTheAccessLog() throws Exception {
        TcpEchoBackend tcpEcho = resources.add(TcpEchoBackend.start("t6"));
        UdpEchoBackend udpEcho = resources.add(UdpEchoBackend.start("u6"));
        AegisProcess aegis = resources.add(AegisProcess.start("ipv6", """
                proxy:
                  listen:
                    tcp: "[::1]:0"
                    udp: "[::1]:0"
                  backends:
                    - address: "%s"
                  udp_backends:
                    - address: "%s"
                  traffic:
                    timeout:
                      udp_session: 1s
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                """.formatted(tcpEcho.address(), udpEcho.address())));
        InetAddress v6 = InetAddress.getByName("::1");
        String started = aegis.logText();
        assertTrue(started.contains("tcp=[::1]:" + aegis.tcp().getPort() + " udp=[::1]:" + aegis.udp().getPort()),
                started);

        int tcpClientPort;
        try (Socket s = new Socket(v6, aegis.tcp().getPort())) {
            s.setSoTimeout(10_000);
            tcpClientPort = s.getLocalPort();
            byte[] hello = "hello over ipv6".getBytes(StandardCharsets.US_ASCII);
            s.getOutputStream().write(hello);
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            assertArrayEquals(hello, in.readNBytes(hello.length));
        }
        int udpClientPort;
        try (DatagramSocket d = new DatagramSocket(new InetSocketAddress(v6, 0))) {
            d.setSoTimeout(10_000);
            udpClientPort = d.getLocalPort();
            byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
            d.send(new DatagramPacket(ping, ping.length, new InetSocketAddress(v6, aegis.udp().getPort())));
            d.receive(new DatagramPacket(new byte[64], 64));
        }

        String tcpLine = "access protocol=tcp service=default client_ip=[::1]:" + tcpClientPort + " backend=" + tcpEcho.address() + " ";
        String udpLine = "access protocol=udp service=default client_ip=[::1]:" + udpClientPort + " backend=" + udpEcho.address() + " ";
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String log = aegis.logText();
            assertTrue(log.contains(tcpLine), "no line with " + tcpLine + " in\n" + log);
            assertTrue(log.contains(udpLine), "no line with " + udpLine + " in\n" + log);
        });
    }
}
