package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code bin/aegis} as an operator uses it (SPEC §2): {@code start -d} returns once the listeners
 * are bound and {@code stop} waits for the graceful shutdown; startup errors are one clear line
 * with the documented exit code; {@code version} and {@code check} of the shipped configs.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CommandLineIT {

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    /** Kills a daemon left behind by a failed test, by the PID in its pid file. */
    private void killOnCleanup(Path pidFile) {
        resources.add(() -> {
            if (Files.exists(pidFile)) {
                long pid = Long.parseLong(Files.readString(pidFile).trim());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        });
    }

    @Test
    void daemonStartReturnsOnceBoundAndStopWaitsForTheGracefulShutdown() throws IOException {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("E"));
        Path config = AegisProcess.workFile("daemon", "yaml");
        Path pidFile = AegisProcess.workFile("daemon", "pid");
        Path logFile = AegisProcess.workFile("daemon", "log");
        Files.writeString(config, new ConfigYaml().backends(List.of(echo.address())).build());
        killOnCleanup(pidFile);

        CommandLine.Result start = CommandLine.aegis("start", "-d", "-c", config.toString(),
                "--pid-file", pidFile.toString(), "--log-file", logFile.toString());

        assertEquals(0, start.exitCode(), start::output);
        assertTrue(start.output().contains("started pid"), start::output);
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        Optional<ProcessHandle> daemon = ProcessHandle.of(pid);
        assertTrue(daemon.isPresent() && daemon.get().isAlive(), "the pid file names a running process");
        assertTrue(ProcStats.cmdline(pid).contains("aegis.jar"), "the pid is the Aegis JVM: " + ProcStats.cmdline(pid));
        String log = Files.readString(logFile);
        assertTrue(log.contains("aegis started"), "returned before the listeners were bound? log:\n" + log);
        int port = Integer.parseInt(log.replaceAll("(?s).*aegis started .*?tcp=[^ ]*:(\\d+) .*", "$1"));
        // Ready means ready: served at once, no retry.
        assertTrue(Clients.echo(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1, 10_000, 4096, 0, false).intact());

        CommandLine.Result again = CommandLine.aegis("start", "-d", "-c", config.toString(),
                "--pid-file", pidFile.toString(), "--log-file", AegisProcess.workFile("daemon2", "log").toString());
        assertEquals(1, again.exitCode(), again::output);
        assertTrue(again.output().contains("already running"), again::output);

        CommandLine.Result stop = CommandLine.aegis("stop", "--pid-file", pidFile.toString());
        assertEquals(0, stop.exitCode(), stop::output);
        assertFalse(daemon.get().isAlive(), "stop returns after the process exited");
        assertFalse(Files.exists(pidFile), "the pid file is removed");
        assertTrue(Files.readString(logFile).contains("stopped"));
    }

    @Test
    void daemonStartIsReadyPromptlyEvenWhenTheLogLevelHidesTheStartedLine() throws IOException {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("E"));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Path config = AegisProcess.workFile("daemon-quiet", "yaml");
        Path pidFile = AegisProcess.workFile("daemon-quiet", "pid");
        Path logFile = AegisProcess.workFile("daemon-quiet", "log");
        Files.writeString(config, """
                proxy:
                  listen:
                    tcp: "127.0.0.1:%d"
                  backends:
                    - address: "%s"
                admin:
                  api_address: "127.0.0.1:0"
                  metrics_address: "127.0.0.1:0"
                logging:
                  level: error
                """.formatted(port, echo.address()));
        killOnCleanup(pidFile);

        long t0 = System.nanoTime();
        CommandLine.Result start = CommandLine.aegis("start", "-d", "-c", config.toString(),
                "--pid-file", pidFile.toString(), "--log-file", logFile.toString());
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        assertEquals(0, start.exitCode(), start::output);
        assertTrue(seconds < 30, "start -d took " + seconds + " s: it waited for a log line the level hides");
        assertFalse(Files.readString(logFile).contains("aegis started"), "logging.level error hides the info line");
        // Ready means ready: served at once, no retry.
        assertTrue(Clients.echo(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1, 10_000, 4096, 0, false).intact());
        CommandLine.Result stop = CommandLine.aegis("stop", "--pid-file", pidFile.toString());
        assertEquals(0, stop.exitCode(), stop::output);
    }

    @Test
    void aDaemonReloadsOnSighup() throws Exception {
        TcpEchoBackend first = resources.add(TcpEchoBackend.start("A"));
        TcpEchoBackend second = resources.add(TcpEchoBackend.start("B"));
        Path config = AegisProcess.workFile("daemon-hup", "yaml");
        Path pidFile = AegisProcess.workFile("daemon-hup", "pid");
        Path logFile = AegisProcess.workFile("daemon-hup", "log");
        Files.writeString(config, new ConfigYaml().backends(List.of(first.address())).build());
        killOnCleanup(pidFile);
        CommandLine.Result start = CommandLine.aegis("start", "-d", "-c", config.toString(),
                "--pid-file", pidFile.toString(), "--log-file", logFile.toString());
        assertEquals(0, start.exitCode(), start::output);
        long pid = Long.parseLong(Files.readString(pidFile).trim());

        // nohup (SIGHUP ignored) would make the JVM leave the signal alone: no reload, ever.
        Files.writeString(config, new ConfigYaml().backends(List.of(first.address(), second.address())).build());
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor());

        org.awaitility.Awaitility.await("reload after SIGHUP").atMost(java.time.Duration.ofSeconds(20))
                .until(() -> Files.readString(logFile).contains("reloaded generation=2"));
        CommandLine.Result stop = CommandLine.aegis("stop", "--pid-file", pidFile.toString());
        assertEquals(0, stop.exitCode(), stop::output);
    }

    @Test
    void daemonStartWithABrokenConfigFailsWithExitTwoAndTheErrors() throws IOException {
        Path config = AegisProcess.workFile("daemon-broken", "yaml");
        Path pidFile = AegisProcess.workFile("daemon-broken", "pid");
        Files.writeString(config, "proxy:\n  listen:\n    tcp: \"127.0.0.1:0\"\n  backends:\n    - address: \"127.0.0.1:70000\"\n");
        killOnCleanup(pidFile);

        CommandLine.Result r = CommandLine.aegis("start", "-d", "-c", config.toString(), "--pid-file", pidFile.toString(),
                "--log-file", AegisProcess.workFile("daemon-broken", "log").toString());

        assertEquals(2, r.exitCode(), r::output);
        assertTrue(r.output().contains("proxy.backends[0].address"), r::output);
        assertFalse(Files.exists(pidFile), "no pid file for a process that never ran");
    }

    @Test
    void busyListenAddressIsOneLineAndExitOne() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = AegisProcess.workFile("busy", "yaml");
            Files.writeString(config, new ConfigYaml().backends(List.of("127.0.0.1:1")).build()
                    .replace("tcp: \"127.0.0.1:0\"", "tcp: \"127.0.0.1:" + busy.getLocalPort() + "\""));

            CommandLine.Result r = CommandLine.aegis("start", "-c", config.toString());

            assertEquals(1, r.exitCode(), r::output);
            assertTrue(r.output().contains("cannot listen on tcp 127.0.0.1:" + busy.getLocalPort()), r::output);
            assertFalse(r.output().contains("\tat "), r::output);
            assertFalse(r.output().contains("aegis started"), r::output);
        }
    }

    @Test
    void versionAndTheShippedConfigsCheckOut() {
        CommandLine.Result version = CommandLine.aegis("version");
        assertEquals(0, version.exitCode(), version::output);
        assertTrue(version.output().matches("(?s).*aegis \\d+\\.\\d+\\.\\d+.*"), version::output);
        for (String file : List.of("conf/aegis.yaml", "conf/demo.yaml")) {
            CommandLine.Result check = CommandLine.aegis("check", "-c", AegisProcess.home().resolve(file).toString());
            assertEquals(0, check.exitCode(), check::output);
            assertTrue(check.output().contains("configuration OK"), check::output);
        }
        Path original = AegisProcess.home().resolveSibling("shared/compat/original-config.yaml");
        if (Files.exists(original)) {
            CommandLine.Result check = CommandLine.aegis("check", "-c", original.toString());
            assertEquals(0, check.exitCode(), check::output);
            assertTrue(check.output().contains("grpc"), "one warning about the ignored grpc section: " + check.output());
        }
    }

    @Test
    void unknownCommandIsAUsageErrorWithExitTwo() {
        CommandLine.Result r = CommandLine.aegis("frobnicate");
        assertEquals(2, r.exitCode(), r::output);
        assertTrue(r.output().contains("usage"), r::output);
    }

    @Test
    void aBackendsCommandWithAMissingWeightIsOneUsageLineAndExitTwo() {
        for (String[] args : List.of(new String[] {"backends", "add", "127.0.0.1:3000", "-w"},
                new String[] {"backends", "add", "127.0.0.1:3000", "-w", "abc"},
                new String[] {"backends", "remove"})) {
            CommandLine.Result r = CommandLine.aegis(args);
            String what = String.join(" ", args) + " -> " + r.output();
            assertEquals(2, r.exitCode(), what);
            assertEquals(1, r.output().lines().count(), what);
            assertTrue(r.output().startsWith("aegis: "), what);
            assertFalse(r.output().contains("Exception"), what);
        }
    }
}
