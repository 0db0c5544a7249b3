package dev.aegis.admin;

import com.sun.net.httpserver.HttpServer;
import dev.aegis.control.HttpServers;
import dev.aegis.control.ProxyControl;
import dev.aegis.control.ProxyStatus;
import dev.aegis.config.HostResolver;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.List;
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
 *   POST   /drain, /resume          ?service=NAME for one service: 200 with the new state
 *   GET    /services                each service: name, listeners, algorithm, status, counters
 *   GET    /backends                both pools; ?service=NAME, or every service's, each with its name
 *   POST   /backends                {"address":"host:port","weight":100,"pool":"tcp","service":"NAME"}: 201 | 400 | 404 | 409
 *   DELETE /backends/{address}      ?pool=udp for the UDP pool, ?service=NAME: 200 | 400 | 404
 * </pre>
 *
 * With several services a mutation must name its service (400 listing them otherwise); a
 * malformed or empty name is 400, an unknown one 404.
 *
 * Every error body is {@code {"error":"..."}}. Before routing and before the token, every
 * request (the dashboard's too) passes the {@link RequestGuard}: 421 for a foreign {@code Host},
 * 403 for a foreign {@code Origin}, 415 for a body that is not JSON. With a non-empty token, POST
 * and DELETE need {@code Authorization: Bearer <token>}; GET never does.
 *
 * <p>Each request runs on a virtual thread of its own. The JDK's server reads the request line
 * and headers on that thread, blocking, so a bounded pool of platform threads was held by a few
 * clients that send half a request and wait: a blocked virtual thread costs no carrier, and the
 * server drops a request that has not fully arrived within 5 s (the {@code sun.net.httpserver}
 * properties set by {@code HttpServers}, which also cap the open connections).
 */
public final class AdminServer implements AutoCloseable {

    static {
        HttpServers.applyLimits(); // before the first HttpServer of this JVM exists
    }


    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final InetSocketAddress bindAddress;
    private final Router router;
    private final RequestGuard guard;
    private volatile HttpServer server;

    /**
     * @param control  the lifecycle operations of the proxy
     * @param status   a fresh snapshot of the proxy, taken per request
     * @param address  where to listen; port 0 picks a free port
     * @param apiToken read on every POST and DELETE: empty or null means no token is required
     * @param allowedHosts {@code admin.allowed_hosts}, read on every request: the names a
     *                     {@code Host} header may carry besides the listen address and loopback
     */
    public AdminServer(ProxyControl control, Supplier<ProxyStatus> status, InetSocketAddress address,
                       Supplier<String> apiToken, Supplier<List<String>> allowedHosts) {
        this.bindAddress = address;
        this.guard = new RequestGuard(address.getAddress(), address.getHostString(), allowedHosts);
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
                .on("GET", "/services", new ServicesHandler(status)::list)
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
        s.createContext("/", router).getFilters().add(guard);
        s.createContext("/dashboard", new DashboardHandler()).getFilters().add(guard);
        HttpServers.start(s, "aegis-admin-", "admin API");
        server = s;
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
            HttpServers.stop(s);
        }
    }
}
