package dev.aegis.admin;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium driven over the DevTools protocol with the JDK's WebSocket client:
 * navigate, evaluate JavaScript, take a screenshot, and collect what would show up in the
 * console as an error (uncaught exceptions, {@code console.error}, CSP violations, failed loads).
 *
 * <p>Why not {@code --dump-dom} with {@code --virtual-time-budget}: it gives one DOM at one
 * moment and nothing about errors, so a page whose script threw after its first render, or whose
 * resources a Content-Security-Policy blocked, would pass; over DevTools the test waits for the
 * page to have polled enough and reads the console as it goes.
 */
final class HeadlessChromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final Process process;
    private final HttpClient http = HttpClient.newHttpClient();
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> errors = new ArrayList<>();

    /**
     * Starts chromium (its log in {@code dir}, its profile under {@code target/}) with a page the size of {@code width} x {@code height}.
     */
    HeadlessChromium(Path dir, int width, int height) throws Exception {
        // the profile outside the test's @TempDir, so that JUnit's clean-up never races a browser
        // process still writing it (a failed DashboardBrowserTest once); target/ is cleaned by Maven
        Path profile = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "chromium-profile-");
        process = new ProcessBuilder("chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                "--window-size=" + width + "," + height, "about:blank")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("chromium.log").toFile())
                .start();
        try {
            socket = connect(dir, profile);
        } catch (Exception | Error e) {
            process.destroyForcibly();
            throw e;
        }
        call("Runtime.enable", JSON.createObjectNode());
        call("Log.enable", JSON.createObjectNode());
        call("Page.enable", JSON.createObjectNode());
    }

    private WebSocket connect(Path dir, Path profile) throws Exception {
        // chromium writes the port it chose (first line) to this file once it listens
        Path portFile = profile.resolve("DevToolsActivePort");
        await("chromium's DevTools port (log: " + dir.resolve("chromium.log") + ")").atMost(WAIT)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("chromium exited " + process.exitValue() + ": "
                                + Files.readString(dir.resolve("chromium.log")));
                    }
                    return Files.exists(portFile) && Files.readString(portFile).contains("\n");
                });
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        String pageSocket = await("a page target").atMost(WAIT).pollInterval(Duration.ofMillis(100))
                .until(() -> pageTarget(port), u -> u != null);
        return http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), new Listener())
                .get(30, TimeUnit.SECONDS);
    }

    private String pageTarget(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode target : JSON.readTree(r.body())) {
            if (target.path("type").asText().equals("page") && target.has("webSocketDebuggerUrl")) {
                return target.get("webSocketDebuggerUrl").asText();
            }
        }
        return null;
    }

    /** Sends one DevTools command and waits for its result; a protocol error throws. */
    JsonNode call(String method, ObjectNode params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
        JsonNode reply = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + " failed: " + reply.get("error"));
        }
        return reply.path("result");
    }

    void navigate(String url) throws Exception {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
    }

    /** The value of a JavaScript expression in the page (returned by value: a string, number, object). */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("evaluating " + expression + ": " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    /** A PNG of the whole page (beyond the window when it is taller). */
    void screenshot(Path png) throws Exception {
        JsonNode metrics = call("Page.getLayoutMetrics", JSON.createObjectNode());
        JsonNode size = metrics.path("cssContentSize");
        ObjectNode clip = JSON.createObjectNode().put("x", 0).put("y", 0)
                .put("width", size.path("width").asDouble()).put("height", size.path("height").asDouble()).put("scale", 1);
        ObjectNode params = JSON.createObjectNode().put("format", "png").put("captureBeyondViewport", true);
        params.set("clip", clip);
        JsonNode shot = call("Page.captureScreenshot", params);
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(shot.get("data").asText()));
    }

    /** What the console reported as errors so far. */
    List<String> errors() {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }

    private void event(JsonNode message) {
        String method = message.path("method").asText();
        JsonNode p = message.path("params");
        String error = switch (method) {
            case "Runtime.exceptionThrown" -> "exception: " + p.path("exceptionDetails");
            case "Runtime.consoleAPICalled" -> p.path("type").asText().equals("error") ? "console.error: " + p.path("args") : null;
            case "Log.entryAdded" -> p.path("entry").path("level").asText().equals("error") ? "log: " + p.path("entry") : null;
            default -> null;
        };
        if (error != null) {
            synchronized (errors) {
                errors.add(error);
            }
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode message = JSON.readTree(text.toString());
                    if (message.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(message.get("id").asInt());
                        if (f != null) {
                            f.complete(message);
                        }
                    } else {
                        event(message);
                    }
                } catch (IOException e) {
                    synchronized (errors) {
                        errors.add("unreadable DevTools message: " + e);
                    }
                }
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (socket != null) {
                socket.abort();
            }
        } finally {
            http.close();
            // chromium's helper processes (zygote, crashpad, renderers) can outlive the browser
            // process and keep writing its profile: end them too, and wait for all of them
            List<ProcessHandle> helpers = process.descendants().toList();
            process.destroy();
            helpers.forEach(ProcessHandle::destroy);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            for (ProcessHandle h : helpers) {
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    h.destroyForcibly();
                }
            }
        }
    }
}
