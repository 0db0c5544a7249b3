package dev.aegis.admin;

import com.sun.net.httpserver.HttpServer;
import dev.aegis.ProxyControl;
import dev.aegis.ProxyStatus;
import dev.aegis.config.HostResolver;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API (SPEC §5) on {@code admin.api_address}: JSON over the JDK's
 * {@link HttpServer}.
 *
 * <pre>
 *   GET    /health                  ok | degraded | down (503)
 *   GET    /status                  version, uptime, counters, listeners, effective config, backends
 *   POST   /reload                  200 reloaded | 400 rejected with every error
 *   POST   /drain, /resume          200 with the new state
 *   GET    /backends                both pools
 *   POST   /backends                {"address":"host:port","weight":100,"pool":"tcp"}: 201 | 400 | 409
 *   DELETE /backends/{address}      ?pool=udp for the UDP pool: 200 | 404
 * </pre>
 *
 * Every error body is {@code {"error":"..."}}. With a non-empty token, POST and DELETE need
 * {@code Authorization: Bearer <token>}; GET never does.
 *
 * <p>Requests run on a pool of {@value #THREADS} platform threads with a queue of
 * {@value #QUEUE} requests; beyond that the server closes new connections at once. A flood of
 * admin requests therefore costs at most a few threads and never competes for the proxy's
 * virtual threads.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    static final int THREADS = 4;
    static final int QUEUE = 64;

    private final InetSocketAddress bindAddress;
    private final Router router;
    private volatile HttpServer server;
    private volatile ThreadPoolExecutor executor;

    /**
     * @param control  the lifecycle operations of the proxy
     * @param status   a fresh snapshot of the proxy, taken per request
     * @param address  where to listen; port 0 picks a free port
     * @param apiToken read on every POST and DELETE: empty or null means no token is required
     */
    public AdminServer(ProxyControl control, Supplier<ProxyStatus> status, InetSocketAddress address,
                       Supplier<String> apiToken) {
        this.bindAddress = address;
        HealthHandler health = new HealthHandler(status);
        StatusHandler statusHandler = new StatusHandler(status);
        LifecycleHandler lifecycle = new LifecycleHandler(control, status);
        BackendsHandler backends = new BackendsHandler(control, status, HostResolver.SYSTEM);
        this.router = new Router(new BearerAuth(apiToken))
                .on("GET", "/health", health::health)
                .on("GET", "/status", statusHandler::status)
                .on("POST", "/reload", lifecycle::reload)
                .on("POST", "/drain", lifecycle::drain)
                .on("POST", "/resume", lifecycle::resume)
                .on("GET", "/backends", backends::list)
                .on("POST", "/backends", backends::add)
                .on("DELETE", "/backends/", backends::remove);
    }

    /** Binds and starts serving. @throws IOException naming the address if it cannot be bound */
    public void start() throws IOException {
        HttpServer s;
        try {
            s = HttpServer.create(bindAddress, 64);
        } catch (IOException e) {
            BindException be = new BindException("cannot listen on admin API " + BackendViews.hostPort(bindAddress)
                    + ": " + e.getMessage());
            be.initCause(e);
            throw be;
        }
        s.createContext("/", router);
        s.createContext("/dashboard", new DashboardHandler());
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), Thread.ofPlatform().name("aegis-admin-", 0).daemon(true).factory());
        s.setExecutor(pool);
        try {
            // The server's dispatcher thread inherits "daemon" from the thread that starts it:
            // started from the pool it never keeps the JVM alive on its own.
            pool.submit(s::start).get();
        } catch (ExecutionException e) {
            pool.shutdownNow();
            throw new IOException("cannot start admin API: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.shutdownNow();
            throw new IOException("interrupted while starting the admin API", e);
        }
        server = s;
        executor = pool;
        log.info("admin API listening address={}", BackendViews.hostPort(address()));
    }

    /** The bound address (with the real port when the configured one was 0). */
    public InetSocketAddress address() {
        return server == null ? bindAddress : server.getAddress();
    }

    /** Stops at once; requests in progress are cut off. Idempotent. */
    @Override
    public void close() {
        HttpServer s = server;
        if (s != null) {
            server = null;
            s.stop(0);
            executor.shutdownNow();
        }
    }
}
