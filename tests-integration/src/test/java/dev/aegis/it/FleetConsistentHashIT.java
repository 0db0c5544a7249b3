package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fleets (SPEC §12): two real Aegis processes with the same backends under
 * {@code consistent_hash} send each client to the same backend. Each instance accepts PROXY
 * headers from loopback, so one test client can stand for 1,000 clients (10.x.y.z); three HTTP
 * backends answer with their names. Then the second instance is reloaded with its backends
 * listed in another order: the ring depends only on addresses and weights, so nothing moves.
 */
class FleetConsistentHashIT {

    private static final int CLIENTS = 1_000;
    private static final Pattern SERVER = Pattern.compile("\"server\":\"([^\"]+)\"");

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private static String config(List<HttpNameBackend> backends, int... order) {
        StringBuilder b = new StringBuilder("""
                services:
                  - name: fleet
                    listen: { tcp: "127.0.0.1:0" }
                    load_balancing: { algorithm: consistent_hash }
                    proxy_protocol: { accept_from: ["127.0.0.0/8"] }
                    backends:
                """);
        for (int i : order) {
            // unequal weights, so the ring's use of weights is part of what must agree
            b.append("      - { address: \"").append(backends.get(i).address()).append("\", weight: ")
                    .append(100 + 50 * i).append(" }\n");
        }
        return b.append("""
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                shutdown:
                  drain_timeout: 1s
                """).toString();
    }

    @Test
    void twoInstancesSendEachOfAThousandClientsToTheSameBackendWhateverTheOrderOfTheirConfigs() throws Exception {
        List<HttpNameBackend> backends = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            backends.add(resources.add(HttpNameBackend.start("backend" + i)));
        }
        AegisProcess first = resources.add(AegisProcess.start("fleet-a", config(backends, 0, 1, 2)));
        AegisProcess second = resources.add(AegisProcess.start("fleet-b", config(backends, 0, 1, 2)));

        List<String> viaFirst = answers(first.service("fleet").tcp().get(0));
        List<String> viaSecond = answers(second.service("fleet").tcp().get(0));
        assertEquals(viaFirst, viaSecond, "the same config: the same backend for every client");
        Map<String, Integer> shares = shares(viaFirst);
        assertEquals(3, shares.size(), "every backend serves some clients: " + shares);

        int mark = second.mark();
        second.writeConfig(config(backends, 2, 0, 1));
        second.sighup();
        second.awaitLog(mark, "reloaded generation=2", Duration.ofSeconds(30));
        assertEquals(viaFirst, answers(second.service("fleet").tcp().get(0)),
                "backends listed in another order: still the same backend for every client");
    }

    /** The backend that answered each of the clients 10.0.i/256.i%256, in client order. */
    private static List<String> answers(InetSocketAddress aegis) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<String>> futures = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                String client = "10.0." + (i / 256) + "." + (i % 256);
                futures.add(pool.submit(() -> ask(aegis, client)));
            }
            List<String> names = new ArrayList<>();
            for (Future<String> f : futures) {
                names.add(f.get());
            }
            return names;
        }
    }

    /** One HTTP request from {@code client} (as a PROXY v1 header says): the name of the backend. */
    private static String ask(InetSocketAddress aegis, String client) throws IOException {
        try (Socket s = new Socket(aegis.getAddress(), aegis.getPort())) {
            s.setSoTimeout(30_000);
            String request = "PROXY TCP4 " + client + " 127.0.0.1 40000 " + aegis.getPort() + "\r\n"
                    + "GET / HTTP/1.1\r\nHost: fleet\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = SERVER.matcher(answer);
            assertTrue(m.find(), "client " + client + " got: " + answer);
            return m.group(1);
        }
    }

    private static Map<String, Integer> shares(List<String> names) {
        Map<String, Integer> counts = new TreeMap<>();
        names.forEach(n -> counts.merge(n, 1, Integer::sum));
        return counts;
    }
}
