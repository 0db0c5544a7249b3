package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {

    private static String format(String ip, int port) throws Exception {
        return HostPort.format(new InetSocketAddress(InetAddress.getByName(ip), port));
    }

    @Test
    void ipv4IsWrittenAsHostColonPort() throws Exception {
        assertEquals("10.0.0.1:5555", format("10.0.0.1", 5555));
    }

    @Test
    void ipv6IsWrittenInBracketsInItsShortFormAsOperatorsPasteIt() throws Exception {
        assertEquals("[::1]:5555", format("::1", 5555));
        assertEquals("[::]:80", format("::", 80));
        assertEquals("[2001:db8::7]:443", format("2001:0DB8:0:0:0:0:0:7", 443));
        assertEquals("[fe80::1:0:0:2]:9", format("fe80:0:0:0:1:0:0:2", 9)); // the first of two equal runs
        assertEquals("[2001:db8:0:1:1:1:1:1]:9", format("2001:db8:0:1:1:1:1:1", 9)); // one zero group stays
        assertEquals("[1:2:3:4:5:6::]:9", format("1:2:3:4:5:6:0:0", 9));
    }

    @Test
    void theFormattedAddressParsesBackToTheSameSocketAddress() throws Exception {
        InetSocketAddress a = new InetSocketAddress(InetAddress.getByName("2001:db8::42"), 8443);
        HostPort back = Addresses.parseListener(HostPort.format(a));
        assertEquals(a, back.resolve());
    }

    @Test
    void anUnresolvedAddressKeepsItsHostnameAndNoneIsADash() {
        assertEquals("backend.internal:80", HostPort.format(InetSocketAddress.createUnresolved("backend.internal", 80)));
        assertEquals("-", HostPort.format(null));
    }
}
