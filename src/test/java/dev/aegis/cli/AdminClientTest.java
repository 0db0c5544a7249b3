package dev.aegis.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.Aegis;
import dev.aegis.admin.AdminServer;
import dev.aegis.config.AdminConfig;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.HostPort;
import dev.aegis.control.ProxyStatus;
import dev.aegis.testsupport.TcpEcho;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminClientTest {

    @TempDir
    Path dir;

    @Test
    void theMetricsAddressIsTheFilesNotTheApis() throws Exception {
        Path file = Files.writeString(dir.resolve("a.yaml"),
                "admin:\n  api_address: \"127.0.0.1:7000\"\n  metrics_address: \"[::1]:7001\"\n");
        AdminConfig admin = AdminClient.adminOf(file, Map.of());
        assertEquals(new HostPort("127.0.0.1", 7000), admin.apiAddress());
        assertEquals(new HostPort("::1", 7001), admin.metricsAddress());
    }

    @Test
    void addressesLeftOutAreTheInstancesDefaults() throws Exception {
        AdminConfig admin = AdminClient.adminOf(Files.writeString(dir.resolve("e.yaml"), "proxy: {}\n"), Map.of());
        assertEquals(new HostPort("127.0.0.1", 9090), admin.apiAddress());
        assertEquals(new HostPort("0.0.0.0", 9091), admin.metricsAddress());
        assertEquals("", admin.apiToken());
    }

    @Test
    void theTokenComesFromTheLoadersVariableOverTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("t.yaml"), "admin:\n  api_token: from-file\n");
        assertEquals("from-env",
                AdminClient.adminOf(file, Map.of(ConfigLoader.API_TOKEN_ENV, "from-env")).apiToken());
        assertEquals("from-file", AdminClient.adminOf(file, Map.of(ConfigLoader.API_TOKEN_ENV, "")).apiToken());
        assertEquals("from-file", AdminClient.adminOf(file, Map.of()).apiToken());
    }

    @Test
    void aBadMetricsAddressIsNamedByItsPath() throws Exception {
        Path file = Files.writeString(dir.resolve("b.yaml"), "admin:\n  metrics_address: \"nonsense\"\n");
        var e = assertThrows(java.io.IOException.class, () -> AdminClient.adminOf(file, Map.of()));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("admin.metrics_address: "), e.getMessage());
    }

    @Test
    void backendsArgumentsAreParsedIntoOneCommand() throws Exception {
        assertEquals(new AdminClient.Command("backends", "add", "10.0.0.1:80", 50, "udp", ""),
                AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:80", "-w", "50", "--udp")));
        assertEquals(new AdminClient.Command("backends", "remove", "10.0.0.1:80", 100, "tcp", ""),
                AdminClient.Command.parse("backends", List.of("remove", "10.0.0.1:80")));
        assertEquals(new AdminClient.Command("backends", "list", "", 0, "tcp", ""),
                AdminClient.Command.parse("backends", List.of()));
    }

    @Test
    void serviceIsAnOptionOfBackendsAndOfDrainAndResume() throws Exception {
        assertEquals(new AdminClient.Command("backends", "add", "10.0.0.1:80", 50, "tcp", "b"),
                AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:80", "--service", "b", "-w", "50")));
        assertEquals(new AdminClient.Command("backends", "remove", "10.0.0.1:80", 100, "udp", "dns"),
                AdminClient.Command.parse("backends", List.of("remove", "10.0.0.1:80", "--udp", "--service", "dns")));
        assertEquals(new AdminClient.Command("backends", "list", "", 0, "tcp", "b"),
                AdminClient.Command.parse("backends", List.of("--service", "b")));
        // the usage puts --service before the action: that works too
        assertEquals(new AdminClient.Command("backends", "add", "10.0.0.1:80", 50, "tcp", "b"),
                AdminClient.Command.parse("backends", List.of("--service", "b", "add", "10.0.0.1:80", "-w", "50")));
        assertEquals(new AdminClient.Command("backends", "remove", "10.0.0.1:80", 100, "udp", "dns"),
                AdminClient.Command.parse("backends", List.of("--service", "dns", "remove", "10.0.0.1:80", "--udp")));
        assertEquals(new AdminClient.Command("drain", "", "", 0, "tcp", "b"),
                AdminClient.Command.parse("drain", List.of("--service", "b")));
        assertEquals(new AdminClient.Command("resume", "", "", 0, "tcp", ""),
                AdminClient.Command.parse("resume", List.of()));
        assertThrows(AdminClient.UsageError.class,
                () -> AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:80", "--service")));
        assertThrows(AdminClient.UsageError.class, () -> AdminClient.Command.parse("status", List.of("--service", "b")));
    }

    @Test
    void aRunOfPortsIsShownAsARange() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                {"tcp": ["0.0.0.0:5432", "[::]:5432"],
                 "udp": ["0.0.0.0:49152", "0.0.0.0:49153", "0.0.0.0:49154", "0.0.0.0:53", "[::1]:54", "[::1]:55"]}""");
        assertEquals("tcp 0.0.0.0:5432,[::]:5432, udp 0.0.0.0:49152-49154,0.0.0.0:53,[::1]:54-55",
                AdminClient.listeners(json));
        assertEquals("tcp 127.0.0.1:80, udp -",
                AdminClient.listeners(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                        "{\"tcp\": \"127.0.0.1:80\", \"udp\": null}")));
    }

    // ---------------------------------------------------------------- against a running instance

    /** What one command printed and its exit code. */
    private record Printed(int code, String out, String err) {
    }

    private static Printed run(AdminServer admin, String command, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AdminConfig config = new AdminConfig(new HostPort("127.0.0.1", admin.address().getPort()),
                new HostPort("127.0.0.1", 0), "");
        int code;
        try (PrintStream o = new PrintStream(out, true, UTF_8); PrintStream e = new PrintStream(err, true, UTF_8)) {
            code = new AdminClient(config, o, e).run(AdminClient.Command.parse(command, List.of(args)));
        }
        return new Printed(code, out.toString(UTF_8), err.toString(UTF_8));
    }

    /** A real Aegis from {@code yaml} (plus an admin section on port 0) and its admin API. */
    private Aegis start(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("aegis.yaml"), yaml + """
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  access_log: false
                """);
        Aegis aegis = new Aegis(file, ConfigLoader.load(file).config());
        aegis.start();
        return aegis;
    }

    private static AdminServer adminOf(Aegis aegis) throws Exception {
        AdminServer admin = new AdminServer(aegis, aegis::status,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), () -> "", List::of);
        admin.start();
        return admin;
    }

    private static String twoServices(TcpEcho a, TcpEcho b) {
        return """
                services:
                  - name: alpha
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                  - name: beta
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                    load_balancing: { algorithm: least_connections }
                """.formatted(a.id(), b.id());
    }

    private static List<String> ids(Aegis aegis, String service) {
        return aegis.status().service(service).orElseThrow().tcpPool().backends().stream()
                .map(ProxyStatus.Backend::id).toList();
    }

    @Test
    void statusHealthAndBackendsShowEveryService() throws Exception {
        try (TcpEcho a = new TcpEcho(); TcpEcho b = new TcpEcho();
             Aegis aegis = start(twoServices(a, b)); AdminServer admin = adminOf(aegis)) {
            Printed status = run(admin, "status");
            assertEquals(0, status.code(), status.err());
            int alpha = status.out().indexOf("service alpha: tcp 127.0.0.1:");
            int beta = status.out().indexOf("service beta: tcp 127.0.0.1:");
            assertTrue(alpha > 0 && beta > alpha, status.out());
            assertTrue(status.out().indexOf(a.id()) > alpha && status.out().indexOf(a.id()) < beta, status.out());
            assertTrue(status.out().indexOf(b.id()) > beta, status.out());
            assertTrue(status.out().contains("algorithm least_connections"), status.out());

            Printed health = run(admin, "health");
            assertEquals(0, health.code(), health.err());
            assertTrue(health.out().startsWith("status: "), health.out());
            alpha = health.out().indexOf("service alpha: ");
            beta = health.out().indexOf("service beta: ");
            assertTrue(alpha > 0 && beta > alpha, health.out());
            assertTrue(health.out().indexOf(a.id()) > alpha && health.out().indexOf(a.id()) < beta, health.out());
            assertTrue(health.out().indexOf(b.id()) > beta, health.out());

            Printed backends = run(admin, "backends");
            assertEquals(0, backends.code(), backends.err());
            List<String> lines = backends.out().lines().toList();
            assertTrue(lines.get(0).startsWith("SERVICE POOL BACKEND"), backends.out());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("alpha") && l.contains(a.id())), backends.out());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("beta ") && l.contains(b.id())), backends.out());

            Printed onlyBeta = run(admin, "backends", "--service", "beta");
            assertEquals(0, onlyBeta.code(), onlyBeta.err());
            assertTrue(onlyBeta.out().startsWith("POOL BACKEND"), onlyBeta.out());
            assertTrue(onlyBeta.out().contains(b.id()) && !onlyBeta.out().contains(a.id()), onlyBeta.out());
        }
    }

    @Test
    void backendsAddAndRemoveActOnTheNamedServiceOnly() throws Exception {
        try (TcpEcho a = new TcpEcho(); TcpEcho b = new TcpEcho(); TcpEcho extra = new TcpEcho();
             Aegis aegis = start(twoServices(a, b)); AdminServer admin = adminOf(aegis)) {
            Printed added = run(admin, "backends", "add", extra.id(), "--service", "beta", "-w", "50");
            assertEquals(0, added.code(), added.err());
            assertTrue(added.out().startsWith("added " + extra.id() + " (weight 50, pool tcp, service beta)"), added.out());
            assertEquals(List.of(b.id(), extra.id()), ids(aegis, "beta"));
            assertEquals(List.of(a.id()), ids(aegis, "alpha"));

            Printed wrong = run(admin, "backends", "remove", extra.id(), "--service", "alpha");
            assertEquals(AdminClient.FAILED, wrong.code(), wrong.out());
            assertTrue(wrong.err().contains("HTTP 404"), wrong.err());
            assertEquals(List.of(b.id(), extra.id()), ids(aegis, "beta"));

            Printed removed = run(admin, "backends", "remove", extra.id(), "--service", "beta");
            assertEquals(0, removed.code(), removed.err());
            assertTrue(removed.out().startsWith("removed " + extra.id() + " from service beta"), removed.out());
            assertEquals(List.of(b.id()), ids(aegis, "beta"));
            assertEquals(List.of(a.id()), ids(aegis, "alpha"));
        }
    }

    @Test
    void aMutationWithoutServiceWhereSeveralRunPrintsTheApisAnswerNamingThem() throws Exception {
        try (TcpEcho a = new TcpEcho(); TcpEcho b = new TcpEcho(); TcpEcho extra = new TcpEcho();
             Aegis aegis = start(twoServices(a, b)); AdminServer admin = adminOf(aegis)) {
            for (String[] args : new String[][] {{"add", extra.id()}, {"remove", a.id()}}) {
                Printed r = run(admin, "backends", args);
                assertEquals(AdminClient.FAILED, r.code(), r.out());
                assertTrue(r.err().startsWith("aegis: HTTP 400: ") && r.err().contains("services: alpha, beta"), r.err());
                assertTrue(r.err().contains("--service NAME"), r.err());
            }
            assertEquals(List.of(a.id()), ids(aegis, "alpha"));
            assertEquals(List.of(b.id()), ids(aegis, "beta"));
        }
    }

    @Test
    void drainAndResumeTakeAService() throws Exception {
        try (TcpEcho a = new TcpEcho(); TcpEcho b = new TcpEcho();
             Aegis aegis = start(twoServices(a, b)); AdminServer admin = adminOf(aegis)) {
            Printed drained = run(admin, "drain", "--service", "beta");
            assertEquals(0, drained.code(), drained.err());
            assertTrue(drained.out().startsWith("service beta draining"), drained.out());
            assertTrue(aegis.status().service("beta").orElseThrow().draining());
            assertFalse(aegis.status().service("alpha").orElseThrow().draining());
            assertTrue(run(admin, "status").out().contains("service beta (DRAINING)"));

            assertEquals(0, run(admin, "resume", "--service", "beta").code());
            assertFalse(aegis.status().service("beta").orElseThrow().draining());
        }
    }

    @Test
    void oneServiceKeepsTheOutputOfBeforeServices() throws Exception {
        try (TcpEcho a = new TcpEcho();
             Aegis aegis = start("""
                     proxy:
                       listen: { tcp: "127.0.0.1:0" }
                       backends: [ { address: "%s" } ]
                     """.formatted(a.id()));
             AdminServer admin = adminOf(aegis)) {
            int port = aegis.service().tcpListener().orElseThrow().localAddress().getPort();
            List<String> status = run(admin, "status").out().lines().toList();
            assertEquals("listeners: tcp 127.0.0.1:" + port + ", udp -; algorithm round_robin", status.get(1));
            assertTrue(status.get(2).startsWith("connections: "), status.toString());
            assertTrue(status.get(3).startsWith("POOL BACKEND"), status.toString());
            assertTrue(status.get(4).startsWith("tcp  " + a.id()), status.toString());
            assertFalse(status.toString().contains("service"), status.toString());

            List<String> health = run(admin, "health").out().lines().toList();
            assertEquals(2, health.size(), health.toString());
            assertTrue(health.get(1).startsWith("  tcp  " + a.id()), health.toString());

            assertTrue(run(admin, "backends").out().startsWith("POOL BACKEND"));
            TcpEcho extra = new TcpEcho();
            try (extra) {
                Printed added = run(admin, "backends", "add", extra.id());
                assertEquals("added " + extra.id() + " (weight 100, pool tcp); it lasts until the next reload,"
                        + " which returns to the file", added.out().strip());
                assertEquals(0, run(admin, "backends", "remove", extra.id()).code());
            }
        }
    }

    @Test
    void poolIsAnOptionOfBackendsAddAndRemove() throws Exception {
        assertEquals(new AdminClient.Command("backends", "add", "10.0.0.1:443", 100, "tls:api.example.com", ""),
                AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:443", "--pool", "tls:api.example.com")));
        assertEquals(new AdminClient.Command("backends", "remove", "10.0.0.1:443", 100, "tls:a.test", "web"),
                AdminClient.Command.parse("backends", List.of("--service", "web", "remove", "10.0.0.1:443", "--pool", "tls:a.test")));
        var missing = assertThrows(AdminClient.UsageError.class,
                () -> AdminClient.Command.parse("backends", List.of("add", "10.0.0.1:443", "--pool")));
        assertTrue(missing.getMessage().startsWith("backends add: --pool needs a pool"), missing.getMessage());
        assertThrows(AdminClient.UsageError.class,
                () -> AdminClient.Command.parse("backends", List.of("remove", "10.0.0.1:443", "--pool", "--udp")));
    }

    private static String routes(TcpEcho fallback, TcpEcho route) {
        return """
                services:
                  - name: plain
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                  - name: web
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "%s" } ]
                    tls_routes:
                      - server_names: ["api.example.com", "*.api.example.com"]
                        backends: [ { address: "%s" } ]
                """.formatted(fallback.id(), fallback.id(), route.id());
    }

    private static List<String> routeIds(Aegis aegis) {
        return aegis.status().service("web").orElseThrow().tlsPools().get(0).backends().stream()
                .map(ProxyStatus.Backend::id).toList();
    }

    @Test
    void statusHealthAndBackendsShowTheTlsRoutePools() throws Exception {
        try (TcpEcho fallback = new TcpEcho(); TcpEcho route = new TcpEcho();
             Aegis aegis = start(routes(fallback, route)); AdminServer admin = adminOf(aegis)) {
            String row = String.format("%-19s %-28s", "tls:api.example.com", route.id());

            Printed backends = run(admin, "backends");
            assertEquals(0, backends.code(), backends.err());
            List<String> lines = backends.out().lines().toList();
            assertTrue(lines.get(0).startsWith("SERVICE POOL                BACKEND"), backends.out());
            assertTrue(lines.contains(lines.stream().filter(l -> l.startsWith("web     " + row)).findFirst()
                    .orElseThrow(() -> new AssertionError(backends.out()))), backends.out());
            assertEquals(4, lines.size(), "a header, two default pools and the route: " + backends.out());

            Printed one = run(admin, "backends", "--service", "web");
            assertTrue(one.out().lines().anyMatch(l -> l.startsWith(row)), one.out());
            assertTrue(one.out().startsWith("POOL                BACKEND"), one.out());

            Printed status = run(admin, "status");
            assertEquals(0, status.code(), status.err());
            int web = status.out().indexOf("service web: ");
            assertTrue(web > 0, status.out());
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith(row)), status.out());
            assertTrue(status.out().indexOf(row) > web, status.out());

            Printed health = run(admin, "health");
            assertEquals(0, health.code(), health.err());
            assertTrue(health.out().lines().anyMatch(l -> l.equals("  " + row + " up")), health.out());
        }
    }

    @Test
    void oneServiceShowsItsRoutePoolsToo() throws Exception {
        try (TcpEcho fallback = new TcpEcho(); TcpEcho route = new TcpEcho();
             Aegis aegis = start("""
                     proxy:
                       listen: { tcp: "127.0.0.1:0" }
                       backends: [ { address: "%s" } ]
                       tls_routes:
                         - server_names: ["a.test"]
                           backends: [ { address: "%s" } ]
                     """.formatted(fallback.id(), route.id()));
             AdminServer admin = adminOf(aegis)) {
            String row = String.format("%-10s %-28s", "tls:a.test", route.id());
            for (String command : List.of("status", "backends")) {
                Printed p = run(admin, command);
                assertEquals(0, p.code(), p.err());
                assertTrue(p.out().lines().anyMatch(l -> l.startsWith(String.format("%-10s %-28s", "tcp", fallback.id()))), p.out());
                assertTrue(p.out().lines().anyMatch(l -> l.startsWith(row)), command + ":\n" + p.out());
            }
            Printed health = run(admin, "health");
            assertTrue(health.out().lines().anyMatch(l -> l.equals("  " + row + " up")), health.out());
        }
    }

    @Test
    void backendsAddAndRemoveChangeARoutePool() throws Exception {
        try (TcpEcho fallback = new TcpEcho(); TcpEcho route = new TcpEcho(); TcpEcho extra = new TcpEcho();
             Aegis aegis = start(routes(fallback, route)); AdminServer admin = adminOf(aegis)) {
            Printed added = run(admin, "backends", "add", extra.id(), "--pool", "tls:api.example.com", "--service", "web");
            assertEquals(0, added.code(), added.err());
            assertTrue(added.out().startsWith("added " + extra.id() + " (weight 100, pool tls:api.example.com, service web)"),
                    added.out());
            assertEquals(List.of(route.id(), extra.id()), routeIds(aegis));
            assertEquals(List.of(fallback.id()), ids(aegis, "web"));

            Printed unknown = run(admin, "backends", "add", extra.id(), "--pool", "tls:nope.test", "--service", "web");
            assertEquals(AdminClient.FAILED, unknown.code(), unknown.out());
            assertTrue(unknown.err().contains("HTTP 400") && unknown.err().contains("\"tls:api.example.com\""), unknown.err());

            Printed removed = run(admin, "backends", "remove", extra.id(), "--pool", "tls:api.example.com", "--service", "web");
            assertEquals(0, removed.code(), removed.err());
            assertTrue(removed.out().startsWith("removed " + extra.id() + " from pool tls:api.example.com of service web"),
                    removed.out());
            assertEquals(List.of(route.id()), routeIds(aegis));
        }
    }
}
