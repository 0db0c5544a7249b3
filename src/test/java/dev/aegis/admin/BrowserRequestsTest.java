package dev.aegis.admin;

import static dev.aegis.admin.AdminFixture.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §5: a web page in a browser on the same host cannot drive the admin API, token or not.
 * A page can send a form or a {@code text/plain} body anywhere without a CORS preflight (415),
 * its cross-site requests carry its {@code Origin} (403), and DNS rebinding makes the browser
 * send the page's own host name in {@code Host} (421).
 */
class BrowserRequestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private TcpEcho backend;
    private TcpEcho other;
    private AdminFixture fx;

    @BeforeEach
    void setUp() throws Exception {
        backend = new TcpEcho();
        other = new TcpEcho();
        fx = new AdminFixture(dir.resolve("aegis.yaml"), AdminFixture.tcpConfig(backend), "");
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
        backend.close();
        other.close();
    }

    private static void assertJsonError(int status, HttpResponse<String> r) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertFalse(json(r).get("error").asText().isEmpty(), r.body());
    }

    private String addBody() {
        return "{\"address\":\"" + other.id() + "\"}";
    }

    private HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        return fx.send(fx.request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void aTextOrFormBodyIsRefusedWith415AndChangesNothing() throws Exception {
        assertJsonError(415, post("/backends", "text/plain", addBody()));
        assertJsonError(415, post("/backends", "text/plain;charset=UTF-8", addBody()));
        assertJsonError(415, post("/drain", "application/x-www-form-urlencoded", "x=1"));
        assertJsonError(415, post("/drain", "multipart/form-data; boundary=b", "--b--\r\n"));
        assertJsonError(415, fx.send(fx.request("/backends").POST(HttpRequest.BodyPublishers.ofString(addBody()))));
        assertJsonError(415, fx.send(fx.request("/backends/" + backend.id())
                .header("Content-Type", "text/plain").method("DELETE", HttpRequest.BodyPublishers.ofString("x"))));
        assertFalse(fx.aegis.draining());
        assertNull(fx.aegis.service().tcpPool().current().find(other.id()), "not added");
        assertNotNull(fx.aegis.service().tcpPool().current().find(backend.id()), "not removed");
    }

    @Test
    void aJsonBodyOrNoBodyIsServed() throws Exception {
        assertEquals(201, post("/backends", "application/json; charset=utf-8", addBody()).statusCode());
        assertEquals(200, fx.send(fx.request("/drain").POST(HttpRequest.BodyPublishers.noBody())).statusCode());
        assertTrue(fx.aegis.draining());
    }

    @Test
    void aForeignOriginIsRefusedWith403EvenOnGet() throws Exception {
        for (String origin : List.of("http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:" + port())) {
            assertJsonError(403, fx.send(fx.request("/status").header("Origin", origin).GET()));
            assertJsonError(403, fx.send(fx.request("/drain").header("Origin", origin).POST(HttpRequest.BodyPublishers.noBody())));
            assertJsonError(403, fx.send(fx.request("/dashboard").header("Origin", origin).GET()));
        }
        assertFalse(fx.aegis.draining());
    }

    @Test
    void theApisOwnOriginAndNoOriginAreServed() throws Exception {
        assertEquals(200, fx.send(fx.request("/status").header("Origin", "http://127.0.0.1:" + port()).GET()).statusCode());
        assertEquals(200, fx.send(fx.request("/drain").header("Origin", "http://127.0.0.1:" + port())
                .POST(HttpRequest.BodyPublishers.noBody())).statusCode());
        assertEquals(200, fx.get("/status").statusCode());
    }

    @Test
    void aForeignHostIsRefusedWith421BeforeRoutingAndAuth() throws Exception {
        for (String host : List.of("evil.example:" + port(), "evil.example", "127.0.0.1.nip.io:" + port(),
                "10.255.255.1:" + port(), "[::1]x", "")) {
            Raw r = raw(port(), "GET", "/status", host, null);
            assertEquals(421, r.status(), host + ": " + r.body());
            assertFalse(JSON.readTree(r.body()).get("error").asText().isEmpty());
            assertEquals(421, raw(port(), "GET", "/nope", host, null).status(), "before routing");
            assertEquals(421, raw(port(), "GET", "/dashboard", host, null).status(), "the dashboard too");
        }
        assertEquals(421, raw(port(), "POST", "/drain", "evil.example", null).status());
        assertFalse(fx.aegis.draining());
    }

    @Test
    void theListenAddressLocalhostAndLoopbackHostsAreServed() throws Exception {
        for (String host : List.of("127.0.0.1:" + port(), "localhost:" + port(), "LOCALHOST", "localhost.",
                "[::1]:" + port(), "[::1]", "127.0.0.2:" + port())) {
            assertEquals(200, raw(port(), "GET", "/status", host, null).status(), host);
        }
        assertEquals(200, raw(port(), "GET", "/health", null, null).status(), "HTTP/1.0 without Host");
    }

    @Test
    void aNameInAllowedHostsIsServed() throws Exception {
        try (AdminServer named = new AdminServer(fx.aegis, fx.aegis::status, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                () -> "", () -> List.of("aegis.internal", "Admin.Example.org"))) {
            named.start();
            int port = named.address().getPort();
            for (String host : List.of("aegis.internal", "aegis.internal:" + port, "AEGIS.internal:8443", "admin.example.org")) {
                assertEquals(200, raw(port, "GET", "/status", host, null).status(), host);
            }
            assertEquals(421, raw(port, "GET", "/status", "other.internal", null).status());
            assertEquals(403, raw(port, "GET", "/status", "aegis.internal", "http://evil.example").status());
            assertEquals(200, raw(port, "GET", "/status", "aegis.internal:" + port, "http://aegis.internal:" + port).status());
        }
    }

    @Test
    void allowedHostsFromTheConfigReachTheApiOfARunningInstance() throws Exception {
        try (AdminServer fromConfig = new AdminServer(fx.aegis, fx.aegis::status, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                () -> "", () -> fx.aegis.config().admin().allowedHosts())) {
            fromConfig.start();
            int port = fromConfig.address().getPort();
            assertEquals(421, raw(port, "GET", "/status", "aegis.internal", null).status());
            Files.writeString(fx.file, Files.readString(fx.file)
                    .replace("admin:\n", "admin:\n  allowed_hosts: [aegis.internal]\n"));
            assertTrue(fx.aegis.reload().ok());
            assertEquals(200, raw(port, "GET", "/status", "aegis.internal", null).status(), "a reload applies at once");
        }
    }

    @Test
    void onAWildcardAddressAnInterfaceAddressIsServedAndOnLoopbackItIsNot() throws Exception {
        Optional<InetAddress> own = NetworkInterface.networkInterfaces()
                .flatMap(NetworkInterface::inetAddresses)
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
                .findFirst();
        assumeTrue(own.isPresent(), "this host has a non-loopback IPv4 address");
        String host = own.get().getHostAddress();
        assertEquals(421, raw(port(), "GET", "/health", host + ":" + port(), null).status(), "loopback listener");
        try (AdminServer wildcard = new AdminServer(fx.aegis, fx.aegis::status, new InetSocketAddress("0.0.0.0", 0), () -> "", List::of)) {
            wildcard.start();
            int port = wildcard.address().getPort();
            // connect over loopback all the same: only the Host header differs
            assertEquals(200, raw(port, "GET", "/health", host + ":" + port, null).status(), host);
            assertEquals(200, raw(port, "GET", "/health", "127.0.0.1:" + port, null).status());
            assertEquals(421, raw(port, "GET", "/health", "evil.example:" + port, null).status());
        }
    }

    private int port() {
        return fx.admin.address().getPort();
    }

    private record Raw(int status, String body) {
    }

    /**
     * One request over a raw socket (the JDK's HttpClient will not set {@code Host}).
     *
     * @param host   the Host header, null for none (then the request is HTTP/1.0)
     * @param origin the Origin header, null for none
     */
    private static Raw raw(int port, String method, String path, String host, String origin) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            StringBuilder request = new StringBuilder(method).append(' ').append(path)
                    .append(host == null ? " HTTP/1.0\r\n" : " HTTP/1.1\r\nHost: " + host + "\r\n");
            if (origin != null) {
                request.append("Origin: ").append(origin).append("\r\n");
            }
            request.append("Connection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(response.substring(9, 12));
            int bodyStart = response.indexOf("\r\n\r\n");
            return new Raw(status, bodyStart < 0 ? "" : response.substring(bodyStart + 4));
        }
    }
}
