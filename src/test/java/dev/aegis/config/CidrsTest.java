package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class CidrsTest {

    @Test
    void ipv4BlocksAndBareAddresses() throws Exception {
        Cidrs c = Cidrs.parse(List.of("10.0.0.0/8", "192.0.2.7", "172.16.0.0/12"));
        assertTrue(c.contains(InetAddress.getByName("10.255.1.2")));
        assertTrue(c.contains(InetAddress.getByName("192.0.2.7")));
        assertFalse(c.contains(InetAddress.getByName("192.0.2.8")));
        assertTrue(c.contains(InetAddress.getByName("172.31.255.255")));
        assertFalse(c.contains(InetAddress.getByName("172.32.0.0")));
        assertFalse(c.contains(InetAddress.getByName("11.0.0.1")));
        assertFalse(c.contains(InetAddress.getByName("::1")));
    }

    @Test
    void ipv6BlocksAndBareAddresses() throws Exception {
        Cidrs c = Cidrs.parse(List.of("::1", "2001:db8::/32", "fd00:1:2:3:4::/72"));
        assertTrue(c.contains(InetAddress.getByName("::1")));
        assertFalse(c.contains(InetAddress.getByName("::2")));
        assertTrue(c.contains(InetAddress.getByName("2001:db8:ffff::1")));
        assertFalse(c.contains(InetAddress.getByName("2001:db9::1")));
        assertTrue(c.contains(InetAddress.getByName("fd00:1:2:3:ff::1")));
        assertFalse(c.contains(InetAddress.getByName("fd00:1:2:3:400::1")));
        assertFalse(c.contains(InetAddress.getByName("127.0.0.1")));
    }

    @Test
    void zeroPrefixesMatchTheirWholeFamily() throws Exception {
        Cidrs c = Cidrs.parse(List.of("0.0.0.0/0", "::/0"));
        assertTrue(c.contains(InetAddress.getByName("203.0.113.9")));
        assertTrue(c.contains(InetAddress.getByName("2001:db8::9")));
        assertFalse(Cidrs.NONE.contains(InetAddress.getByName("203.0.113.9")));
    }

    @Test
    void normalFormClearsHostBits() {
        assertEquals(List.of("10.0.0.0/8", "0:0:0:0:0:0:0:1/128"), Cidrs.parse(List.of("10.9.8.7/8", "::1")).texts());
    }

    @Test
    void badTextsAreNamed() {
        assertNull(Cidrs.problem("10.0.0.0/8"));
        for (String bad : List.of("", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/33", "::/129", "host.example",
                "256.0.0.1", "1.2.3.4/8/8", ":::1")) {
            assertNotNull(Cidrs.problem(bad), bad);
        }
    }

    /** contains() relies on this for IPv4 (no copy of the address): a JDK that changed it must fail here. */
    @Test
    void inet4HashCodeIsTheAddress() throws Exception {
        InetAddress a = InetAddress.getByName("203.0.113.77");
        assertEquals(ByteBuffer.wrap(a.getAddress()).getInt(), a.hashCode());
    }
}
