package dev.aegis.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real dnsmasq on 127.0.0.1 and a free port (UDP and TCP), answering only from its hosts file
 * (re-read on {@link #reload}, SIGHUP) and the SRV records given at start. Nothing is forwarded.
 */
public final class Dnsmasq implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/sbin/dnsmasq");

    private final Path hosts;
    private final Path log;
    private final List<String> srvHosts;
    private Process process;
    private int port;

    /**
     * @param dir      where its hosts file and log go
     * @param srvHosts dnsmasq's {@code --srv-host} values: {@code _name,target,port,priority,weight}
     */
    public Dnsmasq(Path dir, List<String> srvHosts) {
        this.hosts = dir.resolve("dnsmasq.hosts");
        this.log = dir.resolve("dnsmasq.log");
        this.srvHosts = List.copyOf(srvHosts);
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Writes the hosts file ({@code /etc/hosts} lines: address, then names). */
    public void hosts(String lines) throws IOException {
        // dnsmasq started as root reads it as nobody: a private temporary directory would hide it
        Files.setPosixFilePermissions(hosts.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(hosts, lines);
        Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Starts it (another free port if it could not bind, a race with other tests) and waits until it answers. */
    public void start() throws IOException {
        start(false);
    }

    /** Starts it again on the port it had (after {@link #stop}), so that clients of that address recover. */
    public void restart() throws IOException {
        start(true);
    }

    private void start(boolean samePort) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            port = samePort ? port : freePort();
            List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--keep-in-foreground", "--conf-file=/dev/null",
                    "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--addn-hosts=" + hosts, "--pid-file", "--log-queries", "--log-facility=-", "--local-ttl=0"));
            srvHosts.forEach(s -> cmd.add("--srv-host=" + s));
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Process p = process;
            boolean up = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !p.isAlive() || Files.readString(log).contains("read " + hosts), done -> done)
                    && p.isAlive();
            if (up) {
                return;
            }
        }
        throw new AssertionError("dnsmasq did not start: " + Files.readString(log));
    }

    /** {@code host:port} for {@code discovery.resolvers}. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** SIGHUP: dnsmasq re-reads its hosts file (and clears its cache). */
    public void reload() throws IOException, InterruptedException {
        int before = count(Files.readString(log), "read " + hosts);
        new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start().waitFor();
        await().atMost(Duration.ofSeconds(10)).until(() -> count(Files.readString(log), "read " + hosts) > before);
    }

    /** Stops it (SIGTERM) and waits for it to exit. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** A port free for UDP and TCP on 127.0.0.1: dnsmasq binds both. */
    private static int freePort() throws IOException {
        for (int attempt = 0; ; attempt++) {
            try (DatagramSocket u = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 ServerSocket t = new ServerSocket(u.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return t.getLocalPort();
            } catch (java.net.BindException e) {
                if (attempt == 50) {
                    throw e;
                }
            }
        }
    }
}
