package dev.aegis.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressesTest {

    @Test
    void parsesHostsIpv4AndBracketedIpv6() {
        assertEquals(new HostPort("localhost", 3000), Addresses.parseBackend("localhost:3000"));
        assertEquals(new HostPort("10.0.0.2", 80), Addresses.parseBackend("10.0.0.2:80"));
        assertEquals(new HostPort("::1", 80), Addresses.parseBackend("[::1]:80"));
        assertEquals(new HostPort("fe80::1%eth0", 443), Addresses.parseBackend("[fe80::1%eth0]:443"));
        assertEquals(new HostPort("my_service.internal", 65535), Addresses.parseBackend("my_service.internal:65535"));
    }

    @Test
    void writesIpv6BackInBrackets() {
        assertEquals("[::1]:80", Addresses.parseBackend("[::1]:80").toString());
    }

    @Test
    void listenersAllowPortZeroAndAnEmptyHost() {
        assertEquals(new HostPort("127.0.0.1", 0), Addresses.parseListener("127.0.0.1:0"));
        assertEquals(new HostPort("0.0.0.0", 8080), Addresses.parseListener(":8080"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "localhost:70000 | port 70000 out of range (1-65535)",
        "localhost:0     | port 0 out of range (1-65535)",
        "localhost:9999999999 | port 9999999999 out of range (1-65535)",
        "localhost       | missing port in \"localhost\" (expected host:port)",
        "localhost:      | missing port (expected host:port)",
        "localhost:http  | invalid port \"http\" (expected a number (1-65535))",
        ":3000           | missing host in \":3000\" (expected host:port)",
        "::1:80          | IPv6 address in \"::1:80\" must be in brackets, e.g. [::1]:80",
        "[::1]80         | missing port in \"[::1]80\" (expected [ipv6]:port)",
        "[::1:80         | missing \"]\" in \"[::1:80\" (IPv6 is written [::1]:80)",
        "[nope]:80       | invalid IPv6 address \"nope\" in \"[nope]:80\"",
        "256.1.1.1:80    | invalid IPv4 address \"256.1.1.1\"",
        "1.2.3:80        | invalid IPv4 address \"1.2.3\"",
        "bad host:80     | invalid host \"bad host\"",
        "-bad:80         | invalid host \"-bad\"",
        "a..b:80         | invalid host \"a..b\"",
        "''              | empty address (expected host:port)",
    })
    void rejectsBadBackendAddresses(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Addresses.parseBackend(text));
        assertEquals(message, e.getMessage());
    }

    @Test
    void listenerPortRangeStartsAtZero() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Addresses.parseListener("0.0.0.0:65536"));
        assertEquals("port 65536 out of range (0-65535)", e.getMessage());
    }
}
