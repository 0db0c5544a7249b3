package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * SPEC §11 and §12 through a real {@code bin/aegis}: {@code max_lifetime} ends a busy connection
 * with a FIN and logs {@code reason=max_lifetime}; a dead first backend shows in {@code tried=},
 * every connected line has {@code connect_ms=}; a connection that waited in the queue in vain is
 * logged as {@code reason=queue_timeout}.
 */
class ConnectionLifeIT {

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        return resources.add(resource);
    }

    private static int deadPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort(); // closed again: connects are refused
        }
    }

    @Test
    void lifetimeRetriesAndQueueShowInTheAccessLog() throws Exception {
        TcpEchoBackend echo = track(TcpEchoBackend.start("life-echo"));
        TcpEchoBackend single = track(TcpEchoBackend.start("life-single"));
        String dead = "127.0.0.1:" + deadPort();
        String yaml = """
                services:
                  - name: life
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "DEAD" }, { address: "ECHO" } ]
                    traffic: { retries: 2, timeout: { max_lifetime: 1s } }
                  - name: queued
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "SINGLE", max_connections: 1 } ]
                    queue: { size: 1, timeout: 300ms }
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  access_log: true
                """.replace("DEAD", dead).replace("ECHO", echo.address()).replace("SINGLE", single.address());
        AegisProcess aegis = track(AegisProcess.start("life", yaml));

        // Two connections: round robin sends at least one to the dead backend first.
        for (int i = 0; i < 2; i++) {
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), aegis.service("life").tcp().get(0).getPort())) {
                client.setSoTimeout(30_000);
                talkUntilTheEnd(client);
            }
        }
        aegis.awaitLog(0, "reason=max_lifetime", Duration.ofSeconds(30));
        List<String> lines = aegis.linesSince(0, "access protocol=tcp service=life ");
        assertTrue(lines.stream().allMatch(l -> l.contains(" reason=max_lifetime")), String.join("\n", lines));
        assertTrue(lines.stream().allMatch(l -> l.matches(".* connect_ms=\\d+\\.\\d{3} .*")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains(" backend=" + echo.address() + " tried=" + dead + " ")),
                String.join("\n", lines));

        int queuedPort = aegis.service("queued").tcp().get(0).getPort();
        try (Socket holder = new Socket(InetAddress.getLoopbackAddress(), queuedPort)) {
            holder.setSoTimeout(30_000);
            holder.getOutputStream().write('h');
            assertEquals('h', holder.getInputStream().read()); // holds the only slot from now on
            try (Socket waiter = new Socket(InetAddress.getLoopbackAddress(), queuedPort)) {
                waiter.setSoTimeout(30_000);
                assertEquals(-1, waiter.getInputStream().read(), "closed after waiting 300ms for the holder's slot");
            }
        }
        aegis.awaitLog(0, "service=queued", Duration.ofSeconds(30));
        aegis.awaitLog(0, " backend=- bytes_sent=0 bytes_received=0", Duration.ofSeconds(30));
        assertTrue(aegis.linesSince(0, "service=queued").stream().anyMatch(l -> l.contains(" reason=queue_timeout")),
                String.join("\n", aegis.linesSince(0, "service=queued")));
    }

    /** Sends 256-byte messages and reads each echo until the proxy ends the stream: a FIN between two messages. */
    private static void talkUntilTheEnd(Socket client) throws Exception {
        OutputStream out = client.getOutputStream();
        InputStream in = client.getInputStream();
        byte[] message = new byte[256];
        for (int i = 0; ; i++) {
            Arrays.fill(message, (byte) i);
            out.write(message);
            byte[] echo = in.readNBytes(message.length);
            if (echo.length < message.length) {
                assertEquals(0, echo.length, "the stream ended between two messages");
                return;
            }
            assertTrue(Arrays.equals(message, echo), "every echoed byte intact");
        }
    }
}
