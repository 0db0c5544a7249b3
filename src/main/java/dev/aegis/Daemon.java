package dev.aegis;

import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.admin.AdminServer;
import dev.aegis.config.AegisConfig;
import dev.aegis.metrics.ConnectLatency;
import dev.aegis.metrics.ProxyMetrics;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of a running Aegis: builds the proxy core, then the metrics that look at
 * it, then the admin API that controls it, and closes them in reverse order. The core knows
 * neither layer: metrics and the admin API see it through {@link ProxyControl} and
 * {@link ProxyStatus}, and the connect-latency recorder is handed to the core when it is built.
 */
final class Daemon {

    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

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
        log.info("aegis started version={} tcp={} udp={} admin={} metrics={} backends={} algorithm={} generation={}",
                s.version(),
                s.tcpListener().map(l -> Aegis.hostPort(l.address())).orElse("-"),
                s.udpListener().map(l -> Aegis.hostPort(l.address())).orElse("-"),
                Aegis.hostPort(admin.address()), Aegis.hostPort(metrics.address()),
                c.proxy().backends().size(), c.proxy().loadBalancing().algorithm().yamlName(),
                s.generation());
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
