package dev.aegis.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TcpAccessLineTest {

    @Test
    void accessLineNamesTheServiceRightAfterTheProtocol() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {1, 2, 3, 4}), 5555);

        String line = TcpConnection.accessLine("postgres", client, "10.0.0.5:5432", 7, 120, 1234, "client_closed", null);

        assertEquals("access protocol=tcp service=postgres client_ip=1.2.3.4:5555 backend=10.0.0.5:5432"
                + " bytes_sent=7 bytes_received=120 duration_ms=1234 reason=client_closed", line);
    }

    @Test
    void settingsWithoutAServiceBelongToDefault() {
        TcpSettings s = new TcpSettings(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(30), 2, 0, 0,
                false);
        assertEquals("default", s.service());
        assertEquals("dns", s.withService("dns").service());
        assertEquals(s.idleTimeout(), s.withService("dns").idleTimeout());
    }

    @Test
    void aProxyHeadersClientIsTheClientAndTheSenderThePeer() throws Exception {
        String line = TcpConnection.accessLine("web", new java.net.InetSocketAddress("192.0.2.10", 40000),
                new java.net.InetSocketAddress("127.0.0.1", 5555), "b1", 1, 2, 3, "client_closed", null);
        assertEquals("access protocol=tcp service=web client_ip=192.0.2.10:40000 peer=127.0.0.1:5555 backend=b1 "
                + "bytes_sent=1 bytes_received=2 duration_ms=3 reason=client_closed", line);
    }
}
