package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input of every kind: a corpus of broken configs for {@code bin/aegis check}, {@code start}
 * and a SIGHUP reload; garbage and half-open connections on the proxy port; odd datagrams; and a
 * UDP flood from many source ports against {@code udp_max_sessions}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BadInputIT {

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    static Stream<BrokenConfigs.Case> brokenConfigs() {
        return BrokenConfigs.all().stream();
    }

    private static Path writeCase(BrokenConfigs.Case c) throws IOException {
        Path file = AegisProcess.workFile("broken", "yaml");
        Files.write(file, c.content());
        return file;
    }

    private static void assertNoStackTrace(String output) {
        assertFalse(output.contains("Exception"), () -> "an exception name in the output:\n" + output);
        assertFalse(output.contains("\tat "), () -> "a stack trace in the output:\n" + output);
    }

    @ParameterizedTest(name = "check rejects: {0}")
    @MethodSource("brokenConfigs")
    void checkRejectsTheBrokenConfigNamingTheFieldWithoutAStackTrace(BrokenConfigs.Case c) throws IOException {
        CommandLine.Result r = CommandLine.aegis("check", "-c", writeCase(c).toString());

        assertEquals(2, r.exitCode(), r::output);
        assertTrue(r.output().contains("configuration invalid"), r::output);
        assertTrue(c.named(r.output()), () -> "no error line names " + c.mustMention() + ":\n" + r.output());
        assertNoStackTrace(r.output());
    }

    @Test
    void startRefusesBrokenConfigsWithExitTwoAndBindsNothing() throws IOException {
        for (BrokenConfigs.Case c : List.of(BrokenConfigs.all().get(0), BrokenConfigs.all().get(BrokenConfigs.all().size() - 4))) {
            CommandLine.Result r = CommandLine.aegis("start", "-c", writeCase(c).toString());
            assertEquals(2, r.exitCode(), r::output);
            assertTrue(c.named(r.output()), r::output);
            assertNoStackTrace(r.output());
            assertFalse(r.output().contains("aegis started"), r::output);
        }
    }

    @Test
    void sighupWithAnyBrokenConfigKeepsTheOldConfigServing() throws IOException {
        HttpNameBackend first = resources.add(HttpNameBackend.start("first"));
        HttpNameBackend second = resources.add(HttpNameBackend.start("second"));
        AegisProcess aegis = resources.add(AegisProcess.start("reload-broken", new ConfigYaml()
                .backends(List.of(first.address())).build()));
        assertEquals("first", Clients.whoAnswers(aegis.tcp()));

        List<BrokenConfigs.Case> corpus = BrokenConfigs.all();
        for (int i = 0; i < corpus.size(); i++) {
            BrokenConfigs.Case c = corpus.get(i);
            int mark = aegis.mark();
            aegis.writeConfigBytes(c.content());
            aegis.sighup();
            aegis.awaitLog(mark, "reload rejected", Duration.ofSeconds(10));
            assertEquals("first", Clients.whoAnswers(aegis.tcp()), "after a rejected reload with: " + c);
        }
        assertEquals(corpus.size(), aegis.count("reload rejected"));
        assertEquals(0, aegis.count("reloaded generation="));
        assertTrue(aegis.isAlive());

        // A valid file afterwards is taken: the rejections left nothing half-applied.
        int mark = aegis.mark();
        aegis.writeConfig(new ConfigYaml().backends(List.of(second.address())).build());
        aegis.sighup();
        aegis.awaitLog(mark, "reloaded generation=2", Duration.ofSeconds(10));
        assertEquals("second", Clients.whoAnswers(aegis.tcp()));
        assertNoStackTrace(aegis.logText());
    }

    @Test
    void garbageAndHalfOpenConnectionsLeaveTheProxyServingAndLeakNothing() throws Exception {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("echo"));
        AegisProcess aegis = resources.add(AegisProcess.start("garbage", new ConfigYaml()
                .backends(List.of(echo.address()))
                .proxy("traffic:\n  timeout:\n    idle: 1s\n")
                .build()));
        int baseline = aegis.sample().fds();
        SplittableRandom random = new SplittableRandom(1);

        // Silent clients: connect and never send; the idle timeout must close them.
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Socket s = resources.add(new Socket());
            s.connect(aegis.tcp(), 5_000);
            s.setSoTimeout(15_000);
            silent.add(s);
        }
        // Clients that reset right after connecting.
        for (int i = 0; i < 50; i++) {
            try (Socket s = new Socket()) {
                s.connect(aegis.tcp(), 5_000);
                s.setSoLinger(true, 0);
            }
        }
        // Clients that send garbage then vanish without reading, some with a reset.
        for (int i = 0; i < 30; i++) {
            try (Socket s = new Socket()) {
                s.connect(aegis.tcp(), 5_000);
                byte[] junk = new byte[1 + random.nextInt(64 * 1024)];
                random.nextBytes(junk);
                s.getOutputStream().write(junk);
                if (i % 2 == 0) {
                    s.setSoLinger(true, 0);
                }
            }
        }
        // Clients that half-close at once: they get the backend's EOF back, and nothing else.
        for (int i = 0; i < 20; i++) {
            try (Socket s = new Socket()) {
                s.connect(aegis.tcp(), 5_000);
                s.setSoTimeout(10_000);
                s.shutdownOutput();
                assertEquals(-1, s.getInputStream().read());
            }
        }
        // Binary garbage is just bytes to an L4 proxy: it comes back unchanged.
        for (int i = 0; i < 10; i++) {
            Clients.Transfer t = Clients.echo(aegis.tcp(), 100 + i, 1 + random.nextInt(512 * 1024), 8192, 0, false);
            assertTrue(t.intact(), t::toString);
        }
        // The silent ones are closed by the idle timeout (the client sees EOF).
        for (Socket s : silent) {
            InputStream in = s.getInputStream();
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                b = -1;
            }
            assertEquals(-1, b);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> aegis.sample().fds() <= baseline + 5);
        await().atMost(Duration.ofSeconds(10)).until(() -> echo.openConnections() == 0);
        assertTrue(aegis.count("reason=idle_timeout") >= 50, aegis.tail(5));
        assertTrue(Clients.echo(aegis.tcp(), 7, 100_000, 8192, 0, false).intact());
        assertNoStackTrace(aegis.logText());
    }

    @Test
    void oddDatagramsAreForwardedOrDroppedAndTheListenerCarriesOn() throws IOException {
        UdpEchoBackend echo = resources.add(UdpEchoBackend.start("raw", false));
        AegisProcess aegis = resources.add(AegisProcess.start("udp-odd", new ConfigYaml().udpOnly()
                .backends(List.of(echo.address())).build()));

        try (UdpClient client = new UdpClient(aegis.udp())) {
            client.send(new byte[0]); // an empty datagram passes both ways like any other
            DatagramPacket empty = client.receivePacket(5_000);
            assertTrue(empty != null && empty.getLength() == 0, "the empty datagram came back empty");
            byte[] big = new byte[65_507]; // the largest IPv4 UDP payload
            new SplittableRandom(3).nextBytes(big);
            client.send(big);
            DatagramPacket p = client.receivePacket(5_000);
            assertTrue(p != null && p.getLength() == big.length
                    && Arrays.equals(big, Arrays.copyOfRange(p.getData(), 0, p.getLength())), "the largest datagram came back unchanged");
            byte[] one = {(byte) 0xff};
            client.send(one);
            p = client.receivePacket(5_000);
            assertTrue(p != null && p.getLength() == 1 && p.getData()[0] == (byte) 0xff);
        }
        // Garbage from many other clients; the proxy must still answer a normal one.
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < 50; i++) {
            try (UdpClient junk = new UdpClient(aegis.udp())) {
                byte[] b = new byte[random.nextInt(2048)];
                random.nextBytes(b);
                junk.send(b);
            }
        }
        try (UdpClient client = new UdpClient(aegis.udp())) {
            assertEquals("still there?", client.ask("still there?", 5_000));
        }
        assertTrue(aegis.isAlive());
        assertNoStackTrace(aegis.logText());
    }

    @Test
    void udpFloodFromManySourcePortsStaysWithinUdpMaxSessions() throws Exception {
        UdpEchoBackend echo = resources.add(UdpEchoBackend.start("u"));
        int maxSessions = 50;
        AegisProcess aegis = resources.add(AegisProcess.start("udp-flood", new ConfigYaml().udpOnly()
                .backends(List.of(echo.address()))
                .proxy("traffic:\n  udp_max_sessions: " + maxSessions + "\n  timeout:\n    udp_session: 5s\n")
                .build()));
        int baseline = aegis.sample().fds();

        int clients = 300;
        List<UdpClient> flood = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            UdpClient c = resources.add(new UdpClient(aegis.udp()));
            c.send("flood " + i);
            flood.add(c);
        }
        int answered = 0;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<String>> replies = new ArrayList<>();
            for (UdpClient c : flood) {
                replies.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return c.receive(1_500);
                    } catch (IOException e) {
                        return null;
                    }
                }, pool));
            }
            for (CompletableFuture<String> r : replies) {
                if (r.get() != null) {
                    answered++;
                }
            }
        }
        assertEquals(maxSessions, answered, "sessions beyond udp_max_sessions must be dropped, the first ones served");
        assertEquals(maxSessions, echo.peers());
        assertTrue(aegis.sample().fds() <= baseline + maxSessions + 5, "one descriptor per session at most");

        // Sessions expire; then newcomers get in again.
        try (UdpClient late = new UdpClient(aegis.udp())) {
            assertNull(late.ask("too early", 200), "no room yet");
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                late.send("knock");
                String reply = late.receive(200);
                return reply != null && reply.endsWith("knock");
            });
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> aegis.sample().fds() <= baseline + 5);
    }
}
