package dev.aegis;

import dev.aegis.admin.AdminServer;
import dev.aegis.cli.AdminClient;
import dev.aegis.config.AegisConfig;
import dev.aegis.config.ConfigError;
import dev.aegis.config.ConfigException;
import dev.aegis.config.ConfigLoader;
import dev.aegis.config.LoadedConfig;
import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.demo.DemoBackends;
import dev.aegis.metrics.ConnectLatency;
import dev.aegis.metrics.ProxyMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The Java side of {@code bin/aegis}: {@code start}, {@code check}, {@code version} and
 * {@code demo}. The script does JDK discovery, building, daemonising and the admin API calls.
 * Exit codes (SPEC §2): 0 ok, 1 runtime or startup error, 2 usage or invalid configuration.
 */
public final class Main {

    static final int OK = 0;
    static final int RUNTIME_ERROR = 1;
    static final int USAGE = 2;
    private static final String DEFAULT_CONFIG = "conf/aegis.yaml";
    /**
     * System property naming a file that {@code start} writes once every listener is bound (what
     * {@code bin/aegis start -d} waits for): readiness that does not depend on the log level.
     */
    static final String READY_FILE_PROPERTY = "aegis.ready-file";
    private static final java.util.Set<String> CONTROL_COMMANDS =
            java.util.Set.of("reload", "drain", "resume", "status", "health", "backends");

    static {
        // Log timestamps in UTC (SPEC §7): slf4j-simple formats them with a SimpleDateFormat in the
        // default time zone, made once with its first logger. Setting the zone here, before any
        // logger exists, rather than -Duser.timezone in bin/aegis, also covers java -jar and tests
        // that run Main; Aegis formats no other time in the default zone.
        TimeZone.setDefault(TimeZone.getTimeZone(ZoneOffset.UTC));
    }

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code != OK || !(args.length > 0 && (args[0].equals("start") || args[0].equals("demo")))) {
            System.exit(code);
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return USAGE;
        }
        String command = args[0];
        String configFile = DEFAULT_CONFIG;
        List<String> rest = new java.util.ArrayList<>();
        boolean control = CONTROL_COMMANDS.contains(command);
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "-c", "--config" -> {
                    if (i + 1 >= args.length) {
                        err.println("aegis: " + args[i] + " needs a file");
                        return USAGE;
                    }
                    configFile = args[++i];
                }
                default -> {
                    if (control) {
                        rest.add(args[i]); // e.g. backends add ADDR -w 50
                    } else {
                        err.println("aegis: unknown option " + args[i]);
                        usage(err);
                        return USAGE;
                    }
                }
            }
        }
        if (control) {
            AdminClient.Command checked;
            try {
                checked = AdminClient.Command.parse(command, rest);
            } catch (AdminClient.UsageError e) {
                err.println("aegis: " + e.getMessage());
                return USAGE;
            }
            try {
                return new AdminClient(AdminClient.adminOf(Path.of(configFile)), out, err).run(checked);
            } catch (IOException e) {
                err.println("aegis: cannot read " + configFile + ": " + e.getMessage());
                return RUNTIME_ERROR;
            }
        }
        return switch (command) {
            case "version", "--version", "-v" -> {
                out.println("aegis " + Version.get());
                yield OK;
            }
            case "check" -> check(Path.of(configFile), out, err);
            case "start" -> start(Path.of(configFile), err, null);
            case "demo" -> demo(err, out);
            case "help", "--help", "-h" -> {
                usage(out);
                yield OK;
            }
            default -> {
                err.println("aegis: unknown command " + command);
                usage(err);
                yield USAGE;
            }
        };
    }

    private static void usage(PrintStream s) {
        s.println("usage: aegis start|check|reload|status|health [-c FILE]");
        s.println("       aegis drain|resume [--service NAME] [-c FILE]");
        s.println("       aegis backends [--service NAME] [add ADDR [-w N] [--udp | --pool P] | remove ADDR [--udp | --pool P]] [-c FILE]");
        s.println("       aegis demo | version");
    }

    /** Like {@code nginx -t}: every error, or "configuration OK". */
    private static int check(Path file, PrintStream out, PrintStream err) {
        try {
            LoadedConfig loaded = ConfigLoader.load(file);
            for (String w : loaded.warnings()) {
                err.println("warning: " + w);
            }
            out.println("configuration OK: " + file);
            return OK;
        } catch (ConfigException e) {
            printErrors(file, e.errors(), err);
            return USAGE;
        }
    }

    private static void printErrors(Path file, List<ConfigError> errors, PrintStream err) {
        err.println("configuration invalid: " + file + " (" + errors.size() + (errors.size() == 1 ? " error)" : " errors)"));
        for (ConfigError e : errors) {
            err.println("  " + e);
        }
    }

    /**
     * Runs in the foreground until SIGTERM/SIGINT (graceful shutdown, exit 0). SIGHUP reloads.
     *
     * @param ready run once the listeners are bound (the demo prints its instructions then)
     */
    private static int start(Path file, PrintStream err, Runnable ready) {
        LoadedConfig loaded;
        try {
            loaded = ConfigLoader.load(file);
        } catch (ConfigException e) {
            printErrors(file, e.errors(), err);
            return USAGE;
        }
        // Must happen before the first logger exists: slf4j-simple reads its level once.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", loaded.config().logging().level());
        }
        Logger log = LoggerFactory.getLogger(Main.class);
        for (String w : loaded.warnings()) {
            log.warn("config warning: {}", w);
        }
        Daemon daemon;
        try {
            daemon = Daemon.start(file.toAbsolutePath(), loaded.config());
        } catch (IOException e) {
            err.println("aegis: " + e.getMessage());
            return RUNTIME_ERROR;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        SerialReloads reloads = new SerialReloads(() -> {
            ProxyControl.ReloadResult r = daemon.core().reload();
            if (!r.ok()) {
                for (String e : r.errors()) {
                    log.warn("reload error: {}", e);
                }
            }
        });
        Runnable stop = () -> {
            if (stopping.compareAndSet(false, true)) {
                Thread.ofPlatform().name("aegis-shutdown").start(() -> {
                    reloads.close();
                    daemon.shutdown();
                    stopped.countDown();
                });
            }
        };
        // sun.misc.Signal (jdk.unsupported) is the JDK's only way to catch SIGHUP for a reload;
        // TERM and INT go through it too so that a graceful stop can end with exit code 0.
        Signal.handle(new Signal("TERM"), s -> stop.run());
        Signal.handle(new Signal("INT"), s -> stop.run());
        Signal.handle(new Signal("HUP"), s -> reloads.request()); // one at a time, on one thread
        signalReady(err);
        if (ready != null) {
            ready.run();
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }

    /** Writes the ready file named by {@value #READY_FILE_PROPERTY}, if any: every listener is bound. */
    private static void signalReady(PrintStream err) {
        String name = System.getProperty(READY_FILE_PROPERTY);
        if (name == null || name.isEmpty()) {
            return;
        }
        try {
            Files.writeString(Path.of(name), ProcessHandle.current().pid() + "\n");
        } catch (IOException e) {
            err.println("aegis: cannot write the ready file " + name + ": " + e.getMessage());
        }
    }

    /** Demo backends on 3000-3002 (HTTP) and 5001-5003 (UDP echo), then the proxy on conf/demo.yaml. */
    private static int demo(PrintStream err, PrintStream out) {
        Path file = Path.of("conf/demo.yaml");
        if (!Files.exists(file)) {
            err.println("aegis: " + file.toAbsolutePath() + " not found: run aegis demo from the Aegis directory");
            return RUNTIME_ERROR;
        }
        DemoBackends backends;
        try {
            backends = DemoBackends.start(List.of(3000, 3001, 3002), List.of(5001, 5002, 5003));
        } catch (IOException e) {
            err.println("aegis: cannot start the demo backends on ports 3000-3002/5001-5003: " + e.getMessage());
            return RUNTIME_ERROR;
        }
        try {
            return start(file, err, () -> out.print("""

                    Aegis demo is running: TCP 127.0.0.1:8080 -> backend1-3 on 127.0.0.1:3000-3002,
                                           UDP 127.0.0.1:8081 -> UDP echo backend1-3 on 127.0.0.1:5001-5003.
                    Try, in another terminal:
                      for i in $(seq 9); do curl -s localhost:8080; done       # round robin over backend1..3
                      echo hello | nc -u -w1 127.0.0.1 8081                    # a UDP reply from one echo backend
                      curl -s localhost:9090/health                             # the admin API (bin/aegis health)
                      curl -s localhost:9091/metrics | grep ^proxy_             # Prometheus metrics
                    Stop with Ctrl-C.

                    """));
        } finally {
            backends.close();
        }
    }

    /**
     * The composition root of a running Aegis: builds the proxy core, then the metrics that look at
     * it, then the admin API that controls it, and closes them in reverse order. The core knows
     * neither layer: metrics and the admin API see it through {@link ProxyControl} and
     * {@link ProxyStatus}, and the connect-latency recorder is handed to the core when it is built.
     */
    static final class Daemon {

        private static final Logger log = LoggerFactory.getLogger(Main.class);

        private final Aegis core;
        private final ProxyMetrics metrics;
        private final AdminServer admin;

        private Daemon(Aegis core, ProxyMetrics metrics, AdminServer admin) {
            this.core = core;
            this.metrics = metrics;
            this.admin = admin;
        }

        /**
         * Binds the listeners, the metrics endpoint and the admin API. A failure closes what was
         * built and throws: nothing is left running.
         */
        static Daemon start(Path configFile, AegisConfig config) throws IOException {
            ConnectLatency latency = new ConnectLatency();
            Aegis core = new Aegis(configFile, config, latency);
            core.start();
            ProxyMetrics metrics = null;
            try {
                metrics = new ProxyMetrics(core::status, latency);
                metrics.start(config.admin().metricsAddress().resolve());
                // the token is read per request, so it follows reloads (AEGIS_API_TOKEN is applied by the loader)
                AdminServer admin = new AdminServer(core, core::status, config.admin().apiAddress().resolve(),
                        () -> core.config().admin().apiToken(), () -> core.config().admin().allowedHosts());
                admin.start();
                Daemon d = new Daemon(core, metrics, admin);
                d.logStarted();
                return d;
            } catch (IOException | RuntimeException e) {
                if (metrics != null) {
                    metrics.close();
                }
                core.close();
                throw e;
            }
        }

        private void logStarted() {
            ProxyStatus s = core.status();
            AegisConfig c = s.config();
            for (ProxyStatus.ServiceStatus service : s.services()) {
                log.info("service started service={} tcp={} udp={} backends={} algorithm={}",
                        service.name(), listeners(service.tcpListeners()), listeners(service.udpListeners()),
                        service.config().backends().size(), service.config().loadBalancing().algorithm().yamlName());
            }
            if (s.services().size() == 1) {
                ProxyStatus.ServiceStatus only = s.services().get(0);
                log.info("aegis started version={} tcp={} udp={} admin={} metrics={} backends={} algorithm={} generation={}",
                        s.version(), listeners(only.tcpListeners()), listeners(only.udpListeners()),
                        Aegis.hostPort(admin.address()), Aegis.hostPort(metrics.address()),
                        only.config().backends().size(), only.config().loadBalancing().algorithm().yamlName(),
                        s.generation());
            } else {
                log.info("aegis started version={} services={} admin={} metrics={} generation={}",
                        s.version(), String.join(",", s.serviceNames()),
                        Aegis.hostPort(admin.address()), Aegis.hostPort(metrics.address()), s.generation());
            }
        }

        /** {@code -}, one address, or several joined by commas (a port range: first and last). */
        private static String listeners(List<ProxyStatus.Listener> listeners) {
            if (listeners.isEmpty()) {
                return "-";
            }
            if (listeners.size() <= 4) {
                return String.join(",", listeners.stream().map(l -> Aegis.hostPort(l.address())).toList());
            }
            return Aegis.hostPort(listeners.get(0).address()) + ".." + Aegis.hostPort(listeners.get(listeners.size() - 1).address())
                    + "(" + listeners.size() + ")";
        }

        Aegis core() {
            return core;
        }

        /**
         * Graceful stop: the core stops accepting and drains its connections up to
         * {@code drain_timeout} (the admin API and metrics still answer meanwhile), then admin API,
         * metrics and core close in that order.
         */
        void shutdown() {
            core.drainForShutdown();
            admin.close();
            metrics.close();
            core.close();
            log.info("stopped");
        }
    }
}
