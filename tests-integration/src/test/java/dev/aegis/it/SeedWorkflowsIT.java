package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The seed workflows of issue 7, black-box through {@code bin/aegis}: round robin over HTTP
 * backends, a stopped backend leaving and rejoining, an unhealthy {@code /health} taking a backend
 * out, UDP forwarding, spreading and stickiness, and a 1,000-datagram stress with every reply counted.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SeedWorkflowsIT {

    private static final String FAST_HTTP_CHECK = ConfigYaml.healthCheck("200ms", "/health", 2, 1);

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    private List<HttpNameBackend> httpBackends(int n) {
        List<HttpNameBackend> list = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            list.add(resources.add(HttpNameBackend.start("backend" + i)));
        }
        return list;
    }

    private static List<String> addresses(List<HttpNameBackend> backends) {
        return backends.stream().map(HttpNameBackend::address).toList();
    }

    private static List<String> ask(InetSocketAddress proxy, int times) throws IOException {
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            answers.add(Clients.whoAnswers(proxy));
        }
        return answers;
    }

    @Test
    void nineRequestsRotateOverThreeBackendsInOrder() throws IOException {
        List<HttpNameBackend> b = httpBackends(3);
        AegisProcess aegis = resources.add(AegisProcess.start("round-robin", new ConfigYaml()
                .backends(addresses(b))
                .proxy("load_balancing:\n  algorithm: round_robin\n")
                .build()));

        List<String> answers = ask(aegis.tcp(), 9);

        assertEquals(List.of("backend1", "backend2", "backend3", "backend1", "backend2", "backend3",
                "backend1", "backend2", "backend3"), answers);
        await().atMost(Duration.ofSeconds(5)).until(() -> aegis.count("access protocol=tcp") == 9);
        assertEquals(3, aegis.count("backend=" + b.get(1).address() + " "), aegis.tail(12));
    }

    @Test
    void stoppedBackendStopsReceivingTrafficAndRejoinsAfterRestart() throws IOException {
        List<HttpNameBackend> b = httpBackends(3);
        AegisProcess aegis = resources.add(AegisProcess.start("stop-restart", new ConfigYaml()
                .backends(addresses(b), FAST_HTTP_CHECK)
                .build()));
        assertEquals(Set.of("backend1", "backend2", "backend3"), new HashSet<>(ask(aegis.tcp(), 3)));

        int mark = aegis.mark();
        b.get(1).stop();
        // Requests sent before the check notices must not fail either (ask throws if one does):
        // a refused connect is retried on the next backend.
        assertEquals(Set.of("backend1", "backend3"), new HashSet<>(ask(aegis.tcp(), 6)));
        aegis.awaitLog(mark, "backend down service=default backend=" + b.get(1).address(), Duration.ofSeconds(10));
        // A request served after a retry was served: its access line names no error (the refusal
        // came from another backend than the one in backend=).
        await().atMost(Duration.ofSeconds(5)).until(() -> aegis.count("access protocol=tcp") >= 9);
        List<String> servedWithError = aegis.lines("access protocol=tcp").stream()
                .filter(l -> l.contains("error=") && !l.contains("reason=connect_failed")).toList();
        assertEquals(List.of(), servedWithError);

        List<String> without = ask(aegis.tcp(), 12);
        assertTrue(without.stream().noneMatch("backend2"::equals), without::toString);
        assertEquals(Set.of("backend1", "backend3"), new HashSet<>(without));

        mark = aegis.mark();
        b.get(1).restart();
        aegis.awaitLog(mark, "backend up service=default backend=" + b.get(1).address(), Duration.ofSeconds(10));
        List<String> after = ask(aegis.tcp(), 9);
        assertEquals(3, after.stream().filter("backend2"::equals).count(), after::toString);
        assertEquals(3, after.stream().filter("backend1"::equals).count(), after::toString);
        assertEquals(3, after.stream().filter("backend3"::equals).count(), after::toString);
    }

    @Test
    void backendWhoseHealthEndpointFailsIsSkippedUntilItPassesAgain() throws IOException {
        List<HttpNameBackend> b = httpBackends(3);
        AegisProcess aegis = resources.add(AegisProcess.start("health-switch", new ConfigYaml()
                .backends(addresses(b), FAST_HTTP_CHECK)
                .build()));

        int mark = aegis.mark();
        b.get(2).setHealthy(false);
        aegis.awaitLog(mark, "backend down service=default backend=" + b.get(2).address(), Duration.ofSeconds(10));
        int servedBefore = b.get(2).requests();
        List<String> without = ask(aegis.tcp(), 10);
        assertEquals(Set.of("backend1", "backend2"), new HashSet<>(without), without::toString);
        assertEquals(servedBefore, b.get(2).requests(), "an unhealthy backend that still accepts connections got traffic");

        mark = aegis.mark();
        b.get(2).setHealthy(true);
        aegis.awaitLog(mark, "backend up service=default backend=" + b.get(2).address(), Duration.ofSeconds(10));
        assertTrue(ask(aegis.tcp(), 6).contains("backend3"));
    }

    // ---- UDP ----

    private List<UdpEchoBackend> udpBackends(int n) {
        List<UdpEchoBackend> list = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            list.add(resources.add(UdpEchoBackend.start("udp" + i)));
        }
        return list;
    }

    private AegisProcess udpProxy(String name, List<UdpEchoBackend> backends, String proxyExtra) {
        return resources.add(AegisProcess.start(name, new ConfigYaml()
                .udpOnly()
                .backends(backends.stream().map(UdpEchoBackend::address).toList())
                .proxy(proxyExtra)
                .build()));
    }

    @Test
    void udpDatagramIsForwardedAndTheReplyComesBackFromTheListenAddress() throws IOException {
        List<UdpEchoBackend> b = udpBackends(1);
        AegisProcess aegis = udpProxy("udp-basic", b, "");

        try (UdpClient client = new UdpClient(aegis.udp())) {
            assertEquals("udp1:hello", client.ask("hello", 5_000)); // receive() checks the source address
            assertEquals("udp1:again", client.ask("again", 5_000));
        }
        assertEquals(2, b.get(0).packets());
        assertEquals(1, b.get(0).peers(), "one client, one session, one backend-facing socket");
    }

    @Test
    void udpSessionsSpreadOverThreeBackends() throws IOException {
        List<UdpEchoBackend> b = udpBackends(3);
        AegisProcess aegis = udpProxy("udp-spread", b, "");

        Map<String, Integer> perBackend = new HashMap<>();
        for (int i = 0; i < 9; i++) {
            try (UdpClient client = resources.add(new UdpClient(aegis.udp()))) {
                String reply = client.ask("ping " + i, 5_000);
                assertNotNull(reply, "no reply for client " + i);
                assertTrue(reply.endsWith(":ping " + i), reply);
                perBackend.merge(reply.substring(0, reply.indexOf(':')), 1, Integer::sum);
            }
        }
        assertEquals(Map.of("udp1", 3, "udp2", 3, "udp3", 3), perBackend);
    }

    @Test
    void udpClientStaysOnItsBackendForTheWholeSession() throws IOException {
        List<UdpEchoBackend> b = udpBackends(3);
        AegisProcess aegis = udpProxy("udp-sticky", b, "");

        try (UdpClient first = new UdpClient(aegis.udp()); UdpClient second = new UdpClient(aegis.udp())) {
            Set<String> firstBackends = new HashSet<>();
            Set<String> secondBackends = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                String a = first.ask("a" + i, 5_000);
                String c = second.ask("c" + i, 5_000);
                assertNotNull(a);
                assertNotNull(c);
                firstBackends.add(a.substring(0, a.indexOf(':')));
                secondBackends.add(c.substring(0, c.indexOf(':')));
            }
            assertEquals(1, firstBackends.size(), firstBackends::toString);
            assertEquals(1, secondBackends.size(), secondBackends::toString);
        }
        assertEquals(2, b.stream().mapToInt(UdpEchoBackend::peers).sum(), "two clients, two sessions");
        assertEquals(40, b.stream().mapToLong(UdpEchoBackend::packets).sum());
    }

    @Test
    void thousandDatagramStressGetsEveryReplyBack() throws Exception {
        List<UdpEchoBackend> b = udpBackends(3);
        AegisProcess aegis = udpProxy("udp-stress", b, "");
        int clients = 10;
        int perClient = 100;
        int window = 20; // datagrams in flight per client: keeps every socket queue far from full

        List<Thread> threads = new ArrayList<>();
        int[] received = new int[clients];
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int c = 0; c < clients; c++) {
            int id = c;
            threads.add(Thread.ofPlatform().start(() -> {
                try (UdpClient client = new UdpClient(aegis.udp())) {
                    BitSet seen = new BitSet(perClient);
                    int sent = 0;
                    while (seen.cardinality() < perClient) {
                        while (sent < perClient && sent - seen.cardinality() < window) {
                            client.send(ByteBuffer.allocate(8).putInt(id).putInt(sent).array());
                            sent++;
                        }
                        DatagramPacket p = client.receivePacket(5_000);
                        if (p == null) {
                            problems.add("client " + id + " timed out with " + seen.cardinality() + " replies");
                            return;
                        }
                        ByteBuffer reply = ByteBuffer.wrap(p.getData(), p.getOffset(), p.getLength());
                        reply.position(reply.limit() - 8);
                        int owner = reply.getInt();
                        int seq = reply.getInt();
                        if (owner != id || seq < 0 || seq >= perClient || seen.get(seq)) {
                            problems.add("client " + id + " got a stray or duplicate reply " + owner + "/" + seq);
                            return;
                        }
                        seen.set(seq);
                    }
                    received[id] = seen.cardinality();
                } catch (IOException e) {
                    problems.add("client " + id + ": " + e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertEquals(List.of(), problems);
        assertEquals(clients * perClient, java.util.Arrays.stream(received).sum());
        assertEquals(clients * perClient, b.stream().mapToLong(UdpEchoBackend::packets).sum());
        assertEquals(clients, b.stream().mapToInt(UdpEchoBackend::peers).sum(), "one session per client");
        assertTrue(b.stream().allMatch(x -> x.peers() > 0), "every backend got sessions");
    }
}
