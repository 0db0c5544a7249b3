package dev.aegis.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aegis.testsupport.TcpEcho;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code /dashboard} in a real headless Chromium (SPEC §12): three services with twenty backends
 * between them, some of them dead ports, traffic through every service and rejections in one.
 * The test looks at what a person sees: every backend's address with its state and circuit in
 * the table (up, down, then draining when one service drains: its dead ones stay down), charts with lines of several
 * points, no error in the console (a script error, a CSP violation), and it leaves a screenshot
 * in {@code target/dashboard.png}.
 */
class DashboardBrowserTest extends RunningAegisTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Points a chart must have drawn: several polls' worth of rates, not a lone dot. */
    private static final int POINTS = 5;

    /** A service: its name, live echo backends, dead ports, and extra YAML under it. */
    private record Svc(String name, List<TcpEcho> live, List<Integer> dead, String extra) {
        List<String> addresses() {
            List<String> all = new ArrayList<>();
            live.forEach(e -> all.add(e.id()));
            dead.forEach(p -> all.add(DEAD_HOST + ":" + p));
            return all;
        }
    }

    /**
     * Dead backends live on this loopback address: connections to it are refused. Not 127.0.0.1,
     * where a free port in the ephemeral range can answer a health check by a TCP self-connect
     * (the probe's own local port happens to be the one it connects to) and flap to "up".
     */
    private static final String DEAD_HOST = "127.0.0.9";

    /** A port of {@link #DEAD_HOST} that nobody listens on (bound, then closed). */
    private static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(DEAD_HOST))) {
            return s.getLocalPort();
        }
    }

    private Svc svc(String name, int live, int dead, String extra) throws Exception {
        List<TcpEcho> echoes = new ArrayList<>();
        for (int i = 0; i < live; i++) {
            echoes.add(backend());
        }
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < dead; i++) {
            ports.add(deadPort());
        }
        return new Svc(name, echoes, ports, extra);
    }

    private static String config(List<Svc> services) {
        StringBuilder b = new StringBuilder("services:\n");
        for (Svc s : services) {
            b.append("  - name: ").append(s.name).append("\n    listen:\n      tcp: \"127.0.0.1:0\"\n    backends:\n");
            for (String a : s.addresses()) {
                // quick checks so that the dead ports are down within a second
                b.append("      - { address: \"").append(a)
                        .append("\", health_check: { interval: 100ms, timeout: 100ms, unhealthy_threshold: 1, healthy_threshold: 1 } }\n");
            }
            b.append(s.extra);
        }
        return b.toString();
    }

    private int port(String service) {
        return fx.aegis.service(service).orElseThrow().tcpListener().orElseThrow().localAddress().getPort();
    }

    /** A few connections through each service, each sending a line and reading its echo (or a refusal). */
    private void traffic(List<Svc> services) throws IOException {
        byte[] line = "x".repeat(2000).getBytes(StandardCharsets.US_ASCII);
        for (Svc s : services) {
            for (int i = 0; i < 4; i++) {
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port(s.name))) {
                    c.setSoTimeout(10_000);
                    c.getOutputStream().write(line);
                    c.shutdownOutput();
                    c.getInputStream().readAllBytes();
                } catch (IOException refusedOrReset) {
                    // a rejected connection (rate limit) or a dead backend's failed attempt
                }
            }
        }
    }

    @Test
    void aPersonSeesEveryBackendItsStateAndChartsOfTheLastMinutes() throws Exception {
        List<Svc> services = List.of(
                svc("web", 7, 3, ""),
                // a limit below the traffic: rejections to chart
                svc("db", 4, 2, "    traffic: { rate_limit: { requests_per_second: 1, burst: 1 } }\n"),
                svc("cache", 2, 2, ""));
        assertEquals(20, services.stream().mapToInt(s -> s.addresses().size()).sum());
        fx = new AdminFixture(dir.resolve("aegis.yaml"), config(services), "");
        Map<String, String> expected = new LinkedHashMap<>();
        for (Svc s : services) {
            s.live.forEach(e -> expected.put(e.id(), "up"));
            s.dead.forEach(p -> expected.put(DEAD_HOST + ":" + p, "down"));
        }

        try (HeadlessChromium browser = new HeadlessChromium(dir, 1400, 1000)) {
            browser.navigate("http://127.0.0.1:" + fx.admin.address().getPort() + "/dashboard");
            // Traffic keeps flowing while the page collects samples; Awaitility paces it.
            JsonNode seen = await("the dashboard drawing " + POINTS + " points with every backend's state")
                    .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        traffic(services);
                        return JSON.readTree(browser.evaluate(PAGE_STATE).asText());
                    }, page -> ready(page, expected));

            assertEquals(List.of(), browser.errors(), "nothing in the console");
            assertTrue(seen.path("error").isNull(), "the page reports no error of its own: " + seen.path("error") + browser.errors());
            assertEquals(3, seen.get("sections").asInt(), "a section per service");
            // the table a person reads: every address with its state and its circuit, as words
            for (JsonNode row : seen.get("rows")) {
                String text = row.get("text").asText();
                String address = row.get("backend").asText();
                assertTrue(text.contains(address) && text.contains(expected.get(address))
                        && text.contains(row.get("circuit").asText()), "row of " + address + ": " + text);
            }
            // the overview: one line per service in each of the three charts, the busiest in front
            JsonNode overview = seen.get("overview");
            assertEquals(List.of("connections/s", "bytes/s (both directions)", "rejections/s"),
                    titles(overview));
            for (JsonNode chart : overview) {
                assertEquals(3, chart.get("lines").asInt(), chart.toString());
                assertEquals(List.of("cache", "db", "web"), sorted(chart.get("legend")), chart.toString());
            }
            assertTrue(overview.get(1).get("max").asDouble() > 0, "bytes moved: " + overview.get(1));
            // db's rejections chart names the reason, and its line rose above zero
            JsonNode db = seen.get("charts").get("db");
            assertTrue(db.get(2).get("legend").toString().contains("rate_limited"), db.toString());
            assertTrue(db.get(2).get("max").asDouble() > 0, db.toString());
            // with 10 backends, web's chart shows the busiest 6 and sums the other 4
            JsonNode web = seen.get("charts").get("web");
            assertTrue(web.get(0).get("legend").toString().contains("4 others"), web.toString());

            // cache drains: its backends say so, and its rejections chart names the reason
            assertEquals(200, fx.post("/drain?service=cache", "").statusCode());
            JsonNode drained = await("cache's backends shown as draining").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        traffic(services);
                        return JSON.readTree(browser.evaluate(PAGE_STATE).asText());
                    }, page -> !page.path("error").isNull() || drained(page, services.get(2))
                            && page.path("charts").path("cache").path(2).path("legend").toString().contains("draining"));
            assertTrue(drained.path("error").isNull(), "the page reports no error of its own: " + drained.path("error"));
            for (JsonNode row : drained.get("rows")) {
                if (services.get(2).addresses().contains(row.get("backend").asText())) {
                    assertTrue(row.get("text").asText().contains(row.get("state").asText()), row.toString());
                }
            }

            Path png = Path.of("target", "dashboard.png");
            browser.screenshot(png);
            byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
            assertTrue(Files.size(png) > 20_000, "a page with content, not a blank: " + Files.size(png) + " bytes");
            assertEquals(List.of(), browser.errors(), "nothing in the console after all that");
        }
    }

    /**
     * Done waiting: the page reports an error (the assertions then say which), or it has rendered
     * several times with every backend in its expected state, every overview chart has POINTS
     * points, connections and bytes have risen above zero and db's rejections too.
     */
    private static boolean ready(JsonNode page, Map<String, String> expected) {
        if (!page.path("error").isNull()) {
            return true;
        }
        if (page.path("renders").asInt() < 2) {
            return false;
        }
        Map<String, String> states = new LinkedHashMap<>();
        for (JsonNode row : page.get("rows")) {
            states.put(row.get("backend").asText(), row.get("state").asText());
        }
        JsonNode overview = page.get("overview");
        JsonNode db = page.path("charts").path("db");
        boolean points = overview.size() == 3;
        for (JsonNode chart : overview) {
            points &= chart.get("points").asInt() >= POINTS;
        }
        return states.equals(expected) && points
                && overview.get(0).get("max").asDouble() > 0 && overview.get(1).get("max").asDouble() > 0
                && db.size() == 3 && db.get(2).get("max").asDouble() > 0;
    }

    /** The live backends of {@code service} in the table as draining, its dead ones still down, no other draining. */
    private static boolean drained(JsonNode page, Svc service) {
        List<String> live = service.live.stream().map(TcpEcho::id).toList();
        for (JsonNode row : page.get("rows")) {
            String address = row.get("backend").asText();
            String state = row.get("state").asText();
            boolean ok = live.contains(address) ? state.equals("draining")
                    : service.addresses().contains(address) ? state.equals("down") : !state.equals("draining");
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static List<String> titles(JsonNode charts) {
        List<String> out = new ArrayList<>();
        charts.forEach(c -> out.add(c.get("title").asText()));
        return out;
    }

    private static List<String> sorted(JsonNode legend) {
        List<String> out = new ArrayList<>();
        legend.forEach(l -> out.add(l.asText()));
        out.sort(null);
        return out;
    }

    /**
     * What the page shows, read from the DOM as a person would read it: the backend rows (address,
     * the state and circuit they show, their text), and per chart its title, legend labels, how
     * many lines and points it drew and the highest value among the points' y positions.
     */
    private static final String PAGE_STATE = """
            (() => {
              const chart = f => {
                const lines = [...f.querySelectorAll("polyline.line")];
                const ys = lines.flatMap(l => l.getAttribute("points").trim().split(/\\s+/).map(p => Number(p.split(",")[1])));
                // y grows downwards: the bottom of the plot is the lowest y of zero values
                const bottom = f.querySelector("line.grid").getAttribute("y1");
                return {
                  title: f.querySelector("h3").textContent,
                  legend: [...f.querySelectorAll(".legend li")].map(li => li.firstChild.nextSibling.textContent),
                  lines: lines.length,
                  points: Number(f.dataset.points),
                  max: ys.length ? Number(bottom) - Math.min(...ys) : 0
                };
              };
              const charts = {};
              for (const s of document.querySelectorAll("section.service")) {
                charts[s.dataset.service] = [...s.querySelectorAll("figure.chart")].map(chart);
              }
              return JSON.stringify({
                renders: Number(document.body.dataset.renders || 0),
                error: document.body.dataset.error || null,
                sections: document.querySelectorAll("section.service").length,
                rows: [...document.querySelectorAll("tr[data-backend]")].map(r => ({
                  backend: r.dataset.backend, state: r.dataset.state, circuit: r.dataset.circuit, text: r.innerText })),
                overview: [...document.querySelectorAll("#overview figure.chart")].map(chart),
                charts
              });
            })()
            """;
}
