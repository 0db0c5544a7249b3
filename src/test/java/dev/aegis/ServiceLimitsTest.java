package dev.aegis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.aegis.config.ConfigLoader;
import dev.aegis.tcp.RejectReason;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code traffic.max_connections} and {@code traffic.udp_max_sessions} limit a service as a whole,
 * however many listeners it has (a list of addresses, a port range), not each listener.
 */
class ServiceLimitsTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private Aegis aegis;

    @AfterEach
    void tearDown() throws Exception {
        if (aegis != null) {
            aegis.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    private void start(String yaml) throws Exception {
        Path file = dir.resolve("aegis.yaml");
        Files.writeString(file, yaml);
        aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
    }

    /** Writes a byte and reads it back: the connection is proxied, not closed at once. */
    private static boolean proxied(Socket s) throws IOException {
        s.setSoTimeout(5_000);
        s.getOutputStream().write('x');
        InputStream in = s.getInputStream();
        return in.read() == 'x';
    }

    @Test
    void maxConnectionsCountsEveryListenerOfTheService() throws Exception {
        TcpEcho echo = new TcpEcho();
        resources.add(echo);
        start("services:\n"
                + "  - name: db\n"
                + "    listen: { tcp: [\"127.0.0.1:0\", \"127.0.0.2:0\"] }\n"
                + "    backends: [ { address: \"" + echo.id() + "\" } ]\n"
                + "    traffic: { max_connections: 2 }\n"
                + "admin: { api_address: \"127.0.0.1:0\", metrics_address: \"127.0.0.1:0\" }\n");
        Service db = aegis.service("db").orElseThrow();
        InetSocketAddress first = db.tcpListeners().get(0).localAddress();
        InetSocketAddress second = db.tcpListeners().get(1).localAddress();
        try (Socket a = new Socket(first.getAddress(), first.getPort());
             Socket b = new Socket(second.getAddress(), second.getPort())) {
            assertEquals(true, proxied(a));
            assertEquals(true, proxied(b));
            try (Socket c = new Socket(second.getAddress(), second.getPort())) {
                c.setSoTimeout(5_000);
                assertEquals(-1, c.getInputStream().read(), "the third connection of the service is closed at once");
            }
        }
        assertEquals(1, db.tcpTotals().rejected(RejectReason.MAX_CONNECTIONS));
        // both ended: room again on either listener
        await().atMost(Duration.ofSeconds(5)).until(() -> db.activeConnections() == 0);
        try (Socket d = new Socket(first.getAddress(), first.getPort())) {
            assertEquals(true, proxied(d));
        }
    }

    @Test
    void udpMaxSessionsCountsEveryListenerOfTheService() throws Exception {
        DatagramSocket backend = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        resources.add(backend);
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[512];
            while (!backend.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    backend.receive(p);
                    backend.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
        start("services:\n"
                + "  - name: dns\n"
                + "    listen: { udp: [\"127.0.0.1:0\", \"127.0.0.2:0\"] }\n"
                + "    backends: [ { address: \"127.0.0.1:" + backend.getLocalPort() + "\" } ]\n"
                + "    traffic: { udp_max_sessions: 2 }\n"
                + "admin: { api_address: \"127.0.0.1:0\", metrics_address: \"127.0.0.1:0\" }\n");
        Service dns = aegis.service("dns").orElseThrow();
        InetSocketAddress first = dns.udpListeners().get(0).localAddress();
        InetSocketAddress second = dns.udpListeners().get(1).localAddress();
        assertNotNull(ask(first, "one"));
        assertNotNull(ask(second, "two"));
        assertNull(ask(second, "three"), "a third session of the service is dropped");
        assertEquals(2, dns.udpSessions());
        assertEquals(1, dns.udpTotals().droppedMaxSessions());
    }

    /** One datagram from a new client socket; the reply, or null when none came within 1 s. */
    private String ask(InetSocketAddress to, String text) throws IOException {
        DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        resources.add(client);
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        client.send(new DatagramPacket(data, data.length, to));
        client.setSoTimeout(1_000);
        byte[] buf = new byte[512];
        DatagramPacket reply = new DatagramPacket(buf, buf.length);
        try {
            client.receive(reply);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
    }
}
