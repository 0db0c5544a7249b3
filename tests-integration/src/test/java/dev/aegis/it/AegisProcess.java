package dev.aegis.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code bin/aegis start -c FILE} child process: writes the config file, starts the script,
 * waits until the listeners are bound (the {@code aegis started} log line, then the ports seen
 * listening in {@code /proc}, owned by this process; no probe connection, so nothing is routed),
 * collects the combined stdout/stderr in a log file under {@code target/it-logs}, and always
 * stops the process by its PID. {@code bin/aegis} {@code exec}s java, so the PID of the started
 * script is the PID of the Aegis JVM; {@link #start} checks that.
 */
final class AegisProcess implements AutoCloseable {

    /** A first start may build the jar (bin/aegis does when it is stale), hence the generous limit. */
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern STARTED = Pattern.compile("aegis started .*\\btcp=(\\S+) udp=(\\S+)");
    private static final Pattern ADMIN = Pattern.compile("aegis started .*\\badmin=(\\S+)");
    private static final Pattern METRICS = Pattern.compile("aegis started .*\\bmetrics=(\\S+)");
    private static final Pattern SERVICE = Pattern.compile("service started service=(\\S+) tcp=(\\S+) udp=(\\S+)");
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    static {
        // Should the test JVM die, no Aegis is left behind holding ports.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly)));
    }

    private final String name;
    private final Path config;
    private final Path log;
    private final Process process;
    private InetSocketAddress tcp;
    private InetSocketAddress udp;
    private InetSocketAddress admin;
    private InetSocketAddress metrics;
    private final Map<String, Listeners> services = new ConcurrentHashMap<>();

    private AegisProcess(String name, Path config, Path log, Process process) {
        this.name = name;
        this.config = config;
        this.log = log;
        this.process = process;
    }

    /** The checkout: the {@code aegis.home} system property (set by failsafe), else the working directory. */
    static Path home() {
        String h = System.getProperty("aegis.home");
        return (h == null || h.isBlank() ? Path.of("") : Path.of(h)).toAbsolutePath();
    }

    static Path script() {
        return home().resolve("bin/aegis");
    }

    /** Where configs and logs of the processes go; kept after the run for a look at failures. */
    static Path workDir() {
        String d = System.getProperty("aegis.it.logs");
        Path dir = d == null || d.isBlank() ? home().resolve("target/it-logs") : Path.of(d);
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh file name in {@link #workDir()}: {@code NAME-SEQ.EXT}. */
    static Path workFile(String name, String ext) {
        return workDir().resolve(name + "-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "." + ext);
    }

    /** {@code bin/aegis start -c FILE} in the foreground, with {@code yaml} as FILE. */
    static AegisProcess start(String name, String yaml) {
        return launch(name, yaml, null, Map.of());
    }

    /** The same with more environment variables (e.g. {@code AEGIS_API_TOKEN}). */
    static AegisProcess start(String name, String yaml, Map<String, String> env) {
        return launch(name, yaml, null, env);
    }

    /**
     * The same, under {@code bash -c 'ulimit -n LIMIT; exec bin/aegis start -c FILE'}: the bash
     * process becomes bin/aegis, which becomes java, so the PID still is the JVM's.
     */
    static AegisProcess startWithFdLimit(String name, String yaml, int limit) {
        return launch(name, yaml, limit, Map.of());
    }

    private static AegisProcess launch(String name, String yaml, Integer fdLimit, Map<String, String> env) {
        Path config = workFile(name, "yaml");
        write(config, yaml);
        List<String> command = new ArrayList<>();
        if (fdLimit == null) {
            command.addAll(List.of(script().toString(), "start", "-c", config.toString()));
        } else {
            command.addAll(List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec \"$0\" start -c \"$1\"",
                    script().toString(), config.toString()));
        }
        return launch(name, config, command, env);
    }

    /** {@code bin/aegis demo}, as the README's quick start runs it (fixed ports, conf/demo.yaml). */
    static AegisProcess demo() {
        return launch("demo", home().resolve("conf/demo.yaml"), List.of(script().toString(), "demo"), Map.of());
    }

    private static AegisProcess launch(String name, Path config, List<String> command, Map<String, String> env) {
        Path log = workFile(name, "log");
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        pb
                .directory(home().toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
        LIVE.add(p);
        AegisProcess a = new AegisProcess(name, config, log, p);
        try {
            a.awaitReady();
        } catch (RuntimeException | Error e) {
            a.kill();
            throw e;
        }
        return a;
    }

    private void awaitReady() {
        await("aegis started (" + log + ")").atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(25))
                .until(() -> startedLine() != null || !process.isAlive());
        String line = startedLine();
        if (line == null) {
            fail("aegis exited with code " + exitValueOrNull() + " before it was ready; log:\n" + logText());
        }
        Matcher m = STARTED.matcher(line);
        if (m.find()) { // one service: its listeners are on the started line
            tcp = parseAddresses(m.group(1)).stream().findFirst().orElse(null);
            udp = parseAddresses(m.group(2)).stream().findFirst().orElse(null);
        }
        for (String l : logLines()) {
            Matcher sm = SERVICE.matcher(l);
            if (sm.find()) {
                services.put(sm.group(1), new Listeners(parseAddresses(sm.group(2)), parseAddresses(sm.group(3))));
            }
        }
        Matcher a = ADMIN.matcher(line);
        admin = a.find() ? parseAddress(a.group(1)) : null;
        Matcher mm = METRICS.matcher(line);
        metrics = mm.find() ? parseAddress(mm.group(1)) : null;
        String cmdline = ProcStats.cmdline(pid());
        assertTrue(cmdline.contains("java") && cmdline.contains("aegis.jar"),
                "the PID of bin/aegis should be the Aegis JVM (bin/aegis execs java), but runs: " + cmdline);
        if (tcp != null) {
            await("tcp port " + tcp.getPort() + " listening").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> ProcStats.ownsSocket(pid(), "tcp", tcp.getPort(), true));
        }
        if (udp != null) {
            await("udp port " + udp.getPort() + " bound").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> ProcStats.ownsSocket(pid(), "udp", udp.getPort(), false));
        }
    }

    private String startedLine() {
        for (String l : logLines()) {
            if (l.contains("aegis started")) {
                return l;
            }
        }
        return null;
    }

    /** {@code -}, one address, or a comma-separated list (a long range is logged as first..last: left out). */
    private static List<InetSocketAddress> parseAddresses(String text) {
        List<InetSocketAddress> out = new ArrayList<>();
        if (text.contains("..")) {
            return out;
        }
        for (String one : text.split(",")) {
            InetSocketAddress a = parseAddress(one);
            if (a != null) {
                out.add(a);
            }
        }
        return out;
    }

    /** The listeners of one service, from its {@code service started} line. */
    record Listeners(List<InetSocketAddress> tcp, List<InetSocketAddress> udp) {
    }

    /** The listeners of a service (several services: from the {@code service started} lines). */
    Listeners service(String name) {
        Listeners l = services.get(name);
        if (l == null) {
            throw new IllegalStateException("no service " + name + " in " + services.keySet());
        }
        return l;
    }

    private static InetSocketAddress parseAddress(String hostPort) {
        if (hostPort.equals("-")) {
            return null;
        }
        int colon = hostPort.lastIndexOf(':');
        try {
            return new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)),
                    Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String text) {
        try {
            // Write a sibling and move it in place: a reload must never read half a file.
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- what the tests use ----

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    /** The TCP listen address from the log line (the real port when the config said 0). */
    InetSocketAddress tcp() {
        if (tcp == null) {
            throw new IllegalStateException("no tcp listener");
        }
        return tcp;
    }

    InetSocketAddress udp() {
        if (udp == null) {
            throw new IllegalStateException("no udp listener");
        }
        return udp;
    }

    /** The admin API's address, when this Aegis logs one (it has an admin API). */
    java.util.Optional<InetSocketAddress> admin() {
        return java.util.Optional.ofNullable(admin);
    }

    /** The metrics endpoint's address, when this Aegis logs one. */
    java.util.Optional<InetSocketAddress> metrics() {
        return java.util.Optional.ofNullable(metrics);
    }

    int tcpPort() {
        return tcp().getPort();
    }

    Path configFile() {
        return config;
    }

    Path logFile() {
        return log;
    }

    /** Rewrites the config file (atomically); pair with {@link #sighup()}. */
    void writeConfig(String yaml) {
        write(config, yaml);
    }

    void writeConfigBytes(byte[] bytes) {
        try {
            Path tmp = config.resolveSibling(config.getFileName() + ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, config, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void sighup() {
        signal("HUP");
    }

    void sigterm() {
        signal("TERM");
    }

    /** Sends a signal to the Aegis JVM by PID (the JDK can only send TERM and KILL itself). */
    void signal(String name) {
        signal(pid(), name);
    }

    static void signal(long pid, String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Every line logged so far (stdout and stderr together). */
    List<String> logLines() {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            try {
                return List.of(new String(Files.readAllBytes(log), StandardCharsets.ISO_8859_1).split("\n"));
            } catch (IOException e2) {
                throw new UncheckedIOException(e2);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String logText() {
        return String.join("\n", logLines());
    }

    /** Log lines so far that contain {@code fragment}. */
    List<String> lines(String fragment) {
        return logLines().stream().filter(l -> l.contains(fragment)).toList();
    }

    long count(String fragment) {
        return lines(fragment).size();
    }

    /** The number of lines logged so far: a mark to look at later lines only. */
    int mark() {
        return logLines().size();
    }

    List<String> linesSince(int mark, String fragment) {
        List<String> all = logLines();
        return all.subList(Math.min(mark, all.size()), all.size()).stream().filter(l -> l.contains(fragment)).toList();
    }

    /** Waits until a line containing {@code fragment} was logged after {@code mark}. */
    void awaitLog(int mark, String fragment, Duration atMost) {
        await(name + ": log line \"" + fragment + "\"").atMost(atMost).pollInterval(Duration.ofMillis(20))
                .until(() -> !linesSince(mark, fragment).isEmpty());
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to exit; returns its exit code, or fails after {@code atMost}. */
    int awaitExit(Duration atMost) {
        try {
            if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
                fail(name + ": aegis did not exit within " + atMost + "; log:\n" + tail(40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        LIVE.remove(process);
        return process.exitValue();
    }

    private Integer exitValueOrNull() {
        return process.isAlive() ? null : process.exitValue();
    }

    String tail(int n) {
        List<String> all = logLines();
        return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    }

    ProcStats.Sample sample() {
        return ProcStats.sample(pid());
    }

    /** SIGKILL, no questions. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
    }

    /**
     * Stops the process if it still runs: SIGTERM (graceful), SIGKILL if it has not exited
     * within 15 s. Safe to call more than once.
     */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM to the PID, which is the JVM
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        LIVE.remove(process);
    }

    @Override
    public String toString() {
        return name + "[pid " + process.pid() + ", log " + log + "]";
    }
}
