package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tls_routes} (SPEC §10) in a real Aegis process, between TLS software no one here wrote:
 * nginx terminates TLS (and speaks HTTP/2 over ALPN h2) on four ports, one per backend, each with
 * a certificate whose subject names the backend and a body that names it; {@code openssl s_client
 * -servername}, {@code curl --resolve} and {@code h2load} reach the right backend for two exact
 * names, a wildcard, a name no route has, and no SNI at all. Aegis holds no key and decrypts
 * nothing: that the client reached nginx's TLS on the right port is the proof.
 *
 * <p>A backend that speaks first (SMTP-like) behind {@code tls_routes} is covered by the unit test
 * {@code TlsRoutesTest.aServerThatSpeaksFirstStillWorksAfterClientHelloTimesOut}. nginx, openssl,
 * curl and h2load are installed by {@code .ci/run}; without them this test fails rather than skips.
 */
class TlsRoutesIT {

    /** Backend name to the server names whose route leads to it; {@code default} is the service's pool. */
    private static final List<String> BACKENDS = List.of("api", "web", "wild", "default");

    private final Resources resources = new Resources();

    @AfterEach
    void closeAll() {
        resources.close();
    }

    private <T extends AutoCloseable> T track(T resource) {
        return resources.add(resource);
    }

    private static final String ADMIN = """
            admin:
              api_address: "127.0.0.1:0"
              metrics_address: "127.0.0.1:0"
            """;

    /** One nginx server block of the README's example: TLS and HTTP/2 on its port, a body naming it. */
    static String nginxServer(Path dir, String name, int port) {
        return """
                    server {
                        listen 127.0.0.1:PORT ssl http2;
                        ssl_certificate     DIR/NAME.crt;
                        ssl_certificate_key DIR/NAME.key;
                        access_log DIR/NAME.access.log sni;
                        location / {
                            default_type text/plain;
                            return 200 "NAME";
                        }
                    }
                """.replace("DIR", dir.toString()).replace("NAME", name).replace("PORT", Integer.toString(port));
    }

    static String nginxConfig(Path dir, Map<String, Integer> ports) {
        StringBuilder servers = new StringBuilder();
        ports.forEach((name, port) -> servers.append(nginxServer(dir, name, port)));
        return """
                worker_processes 1;
                error_log DIR/error.log;
                pid DIR/nginx.pid;
                events { worker_connections 256; }
                http {
                    log_format sni '$server_port "$ssl_server_name" $server_protocol $status';
                    client_body_temp_path DIR/client_body;
                    proxy_temp_path DIR/proxy;
                    fastcgi_temp_path DIR/fastcgi;
                    uwsgi_temp_path DIR/uwsgi;
                    scgi_temp_path DIR/scgi;
                SERVERS}
                """.replace("DIR", dir.toString()).replace("SERVERS", servers);
    }

    private static void requireTool(String program) {
        assertTrue(CommandLine.available(program), program + " is installed by .ci/run");
    }

    /** A self-signed certificate per backend, subject {@code CN=<name>-backend}, made with openssl now. */
    private static void certificates(Path dir) {
        for (String name : BACKENDS) {
            CommandLine.Result r = CommandLine.run(dir, 60, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + name + "-backend",
                    "-keyout", dir.resolve(name + ".key").toString(), "-out", dir.resolve(name + ".crt").toString());
            assertEquals(0, r.exitCode(), r.output());
        }
    }

    private record Nginx(Path dir, Map<String, Integer> ports) {
        long requests(String backend, String protocol) throws IOException {
            Path log = dir.resolve(backend + ".access.log");
            return !Files.exists(log) ? 0 : Files.readAllLines(log).stream()
                    .filter(l -> l.contains(" " + protocol + " 200")).count();
        }
    }

    /** nginx in the foreground with the four TLS servers; other ports if it could not bind them all. */
    private Nginx startNginx() throws IOException {
        requireTool("nginx");
        requireTool("openssl");
        for (int attempt = 0; attempt < 5; attempt++) {
            Path dir = AegisProcess.workFile("nginx-tls", "d");
            Files.createDirectories(dir);
            certificates(dir);
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (String name : BACKENDS) {
                try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    ports.put(name, s.getLocalPort());
                }
            }
            Path conf = dir.resolve("nginx.conf");
            Files.writeString(conf, nginxConfig(dir, ports));
            Process p = new ProcessBuilder("nginx", "-e", dir.resolve("error.log").toString(), "-p", dir.toString(),
                    "-c", conf.toString(), "-g", "daemon off;").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            track(() -> {
                p.destroy(); // SIGTERM to the master's PID: nginx stops at once
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            });
            boolean up = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || ports.values().stream().allMatch(TlsRoutesIT::accepts), done -> done)
                    && p.isAlive();
            if (up) {
                return new Nginx(dir, ports);
            }
        }
        throw new AssertionError("nginx did not start (see its logs in target/it-logs)");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The README's example: two exact names, a wildcard, the default pool, a short client_hello. */
    private AegisProcess aegis(Nginx nginx) {
        Map<String, Integer> p = nginx.ports();
        String yaml = """
                services:
                  - name: tls
                    listen: { tcp: "127.0.0.1:0" }
                    backends: [ { address: "127.0.0.1:DEFAULT" } ]
                    tls_routes:
                      - server_names: ["api.aegis.test"]
                        backends: [ { address: "127.0.0.1:API" } ]
                      - server_names: ["web.aegis.test"]
                        backends: [ { address: "127.0.0.1:WEB" } ]
                      - server_names: ["*.wild.aegis.test"]
                        backends: [ { address: "127.0.0.1:WILD" } ]
                    traffic: { timeout: { client_hello: 300ms } }
                """.replace("DEFAULT", p.get("default").toString()).replace("API", p.get("api").toString())
                .replace("WEB", p.get("web").toString()).replace("WILD", p.get("wild").toString()) + ADMIN;
        return track(AegisProcess.start("tls-routes", yaml));
    }

    /** Server name sent (null: none) to the backend that must answer. */
    private static Map<String, String> cases() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("api.aegis.test", "api");
        m.put("WEB.aegis.test", "web"); // names match case-insensitively
        m.put("x.wild.aegis.test", "wild");
        m.put("wild.aegis.test", "default"); // a wildcard covers exactly one label
        m.put("other.aegis.test", "default");
        m.put(null, "default");
        return m;
    }

    @Test
    void opensslSClientReachesTheBackendOfItsServerName() throws Exception {
        int port = aegis(startNginx()).service("tls").tcp().get(0).getPort();
        cases().forEach((name, backend) -> {
            CommandLine.Result r = name == null
                    ? CommandLine.run(AegisProcess.home(), 30, "openssl", "s_client", "-connect", "127.0.0.1:" + port,
                            "-noservername")
                    : CommandLine.run(AegisProcess.home(), 30, "openssl", "s_client", "-connect", "127.0.0.1:" + port,
                            "-servername", name);
            assertTrue(r.output().contains("subject=CN = " + backend + "-backend"), name + " -> " + backend + ":\n" + r.output());
        });
    }

    @Test
    void curlWithResolveReachesTheBackendOfItsHostName() throws Exception {
        requireTool("curl");
        int port = aegis(startNginx()).service("tls").tcp().get(0).getPort();
        cases().forEach((name, backend) -> {
            // an IP address in the URL: curl sends no SNI
            CommandLine.Result r = name == null
                    ? CommandLine.run(AegisProcess.home(), 30, "curl", "-sSk", "--max-time", "10",
                            "https://127.0.0.1:" + port + "/")
                    : CommandLine.run(AegisProcess.home(), 30, "curl", "-sSk", "--max-time", "10", "--resolve",
                            name + ":" + port + ":127.0.0.1", "https://" + name + ":" + port + "/");
            assertEquals(0, r.exitCode(), r.output());
            assertEquals(backend, r.output().trim(), String.valueOf(name));
        });
    }

    @Test
    void h2loadOverAlpnH2ReachesTheBackendOfItsServerName() throws Exception {
        requireTool("h2load");
        Nginx nginx = startNginx();
        int port = aegis(nginx).service("tls").tcp().get(0).getPort();
        // h2load sends the URI's host as SNI; --connect-to sends the connections to Aegis
        for (String[] c : List.of(new String[] {"api.aegis.test", "api"}, new String[] {"b.wild.aegis.test", "wild"})) {
            CommandLine.Result r = CommandLine.run(AegisProcess.home(), 120, "h2load", "-n", "20", "-c", "2",
                    "--connect-to=127.0.0.1:" + port, "https://" + c[0] + ":" + port + "/");
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("Application protocol: h2"), r.output());
            assertTrue(r.output().contains("requests: 20 total, 20 started, 20 done, 20 succeeded, 0 failed, 0 errored"), r.output());
            assertTrue(r.output().contains("status codes: 20 2xx"), r.output());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertEquals(20, nginx.requests("api", "HTTP/2.0"));
            assertEquals(20, nginx.requests("wild", "HTTP/2.0"));
        });
        assertEquals(0, nginx.requests("web", "HTTP/2.0") + nginx.requests("default", "HTTP/2.0"));
        String apiLog = Files.readString(nginx.dir().resolve("api.access.log"), StandardCharsets.ISO_8859_1);
        assertTrue(apiLog.lines().allMatch(l -> l.contains("\"api.aegis.test\"")), apiLog);
    }
}
