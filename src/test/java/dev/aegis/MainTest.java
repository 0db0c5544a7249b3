package dev.aegis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void checkAcceptsTheDocumentedDefaultConfig() {
        Result r = run("check", "-c", "conf/aegis.yaml");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("configuration OK"), r.out());
    }

    @Test
    void checkNamesEveryMistakeWithItsPathAndExitsTwo() throws Exception {
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, """
                proxy:
                  listen:
                    tcp: "127.0.0.1:8080"
                  backends:
                    - address: "127.0.0.1:3000"
                    - address: "127.0.0.1:70000"
                  load_balancing:
                    algorithm: fastest
                  traffic:
                    timeout:
                      idle: "10 minutes"
                """);
        Result r = run("check", "-c", broken.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("proxy.backends[1].address"), r.err());
        assertTrue(r.err().contains("proxy.load_balancing.algorithm"), r.err());
        assertTrue(r.err().contains("proxy.traffic.timeout.idle"), r.err());
        assertTrue(r.err().contains("3 errors"), r.err());
    }

    @Test
    void checkPassesADiscoveryNameThatDoesNotResolve() throws Exception {
        Path conf = dir.resolve("discovery.yaml");
        Files.writeString(conf, """
                proxy:
                  listen: {tcp: "127.0.0.1:8080"}
                  discovery:
                    dns: {names: ["nothing-here.invalid", "_pg._tcp.nothing-here.invalid"], port: 5432}
                    resolvers: ["127.0.0.1:1"]
                """);
        Result r = run("check", "-c", conf.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("configuration OK"), r.out());
    }

    @Test
    void checkAcceptsTheOriginalAegisConfigWithOneWarning() {
        Result r = run("check", "-c", "src/test/resources/config/original-config.yaml");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("warning:")).count(), r.err());
        assertTrue(r.err().contains("grpc"), r.err());
    }

    @Test
    void startOnABusyAddressPrintsOneLineAndExitsOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path conf = dir.resolve("busy.yaml");
            Files.writeString(conf, """
                    proxy:
                      listen:
                        tcp: "127.0.0.1:%d"
                      backends:
                        - address: "127.0.0.1:3000"
                    """.formatted(taken.getLocalPort()));
            Result r = run("start", "-c", conf.toString());
            assertEquals(1, r.code());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("aegis: cannot listen on tcp 127.0.0.1:" + taken.getLocalPort()), r.err());
        }
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run("check", "--bogus").code());
    }

    @Test
    void aControlCommandWithAMissingOrBadArgumentPrintsOneUsageLineAndExitsTwo() {
        String[][] mistakes = {
            {"backends", "add", "127.0.0.1:3000", "-w"},
            {"backends", "add", "127.0.0.1:3000", "-w", "abc"},
            {"backends", "add", "127.0.0.1:3000", "--weight", "99999999999"},
            {"backends", "add", "127.0.0.1:3000", "--bogus"},
            {"backends", "add", "-w", "50"},
            {"backends", "add"},
            {"backends", "remove"},
            {"backends", "remove", "127.0.0.1:3000", "-w", "5"},
            {"backends", "add", "127.0.0.1:3000", "--service"},
            {"backends", "remove", "127.0.0.1:3000", "--service", "--udp"},
            {"backends", "--service"},
            {"backends", "--udp"},
            {"drain", "--service"},
            {"resume", "web"},
            {"backends", "frobnicate"},
            {"status", "extra"},
            {"reload", "--bogus"},
        };
        for (String[] args : mistakes) {
            // The config file does not exist: the arguments are checked before anything is read.
            String[] withConfig = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                    java.util.stream.Stream.of("-c", dir.resolve("absent.yaml").toString())).toArray(String[]::new);
            Result r = run(withConfig);
            String what = String.join(" ", args) + " -> " + r.err();
            assertEquals(2, r.code(), what);
            assertEquals(1, r.err().lines().count(), what);
            assertTrue(r.err().startsWith("aegis: ") && r.err().contains("(usage: aegis "), what);
            assertEquals("", r.out(), what);
        }
    }

    @Test
    void aMissingWeightIsNamedAsSuch() {
        Result missing = run("backends", "add", "127.0.0.1:3000", "-w");
        assertEquals("aegis: backends add: -w needs a weight, e.g. -w 50"
                + " (usage: aegis backends add ADDR [-w N] [--udp | --pool P] [--service NAME] [-c FILE])", missing.err().strip());
        Result notANumber = run("backends", "add", "127.0.0.1:3000", "-w", "abc");
        assertTrue(notANumber.err().startsWith("aegis: backends add: -w needs a whole number, got \"abc\""),
                notANumber.err());
    }

    @Test
    void versionPrintsTheVersion() {
        Result r = run("version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("aegis "), r.out());
    }
}
