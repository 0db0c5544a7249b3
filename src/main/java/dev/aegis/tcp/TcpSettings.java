package dev.aegis.tcp;

import dev.aegis.config.Cidrs;
import dev.aegis.config.ProxyProtocolConfig.Send;
import dev.aegis.config.ServiceConfig;
import dev.aegis.config.TrafficConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * What the TCP data path needs from one config generation, resolved once so that no
 * connection parses or looks anything up. Swapped as a whole on reload: a connection reads the
 * current settings when it needs them, so new timeouts apply to open connections too.
 *
 * @param connectTimeout   backend connect timeout
 * @param idleTimeout      no byte either way for this long closes the connection
 * @param readTimeout      client bytes unanswered by the backend for this long closes it
 * @param retries          more backends tried after a failed connect
 * @param maxConnections   open connections for the whole listener, 0 = unlimited
 * @param bytesPerSecond   bandwidth per connection and direction, 0 = unlimited
 * @param accessLog        log one line per finished connection
 * @param service          the name of the service the listener belongs to (SPEC §9): written as
 *                         {@code service=} in access lines and the listener's log lines;
 *                         {@value #DEFAULT_SERVICE} for a {@code proxy:} file
 * @param proxyHeader      {@code proxy_protocol.send}: the PROXY header written first on every
 *                         backend connection, {@link Send#NONE} for none
 * @param acceptFrom       {@code proxy_protocol.accept_from}: sources whose connections must start
 *                         with a PROXY header (read within {@code connectTimeout}), none by default
 * @param maxLifetime      a connection older than this is ended with a FIN both ways between two
 *                         chunks ({@code max_lifetime}); {@link Duration#ZERO} = never
 */
public record TcpSettings(
        Duration connectTimeout,
        Duration idleTimeout,
        Duration readTimeout,
        int retries,
        int maxConnections,
        long bytesPerSecond,
        boolean accessLog,
        String service,
        Send proxyHeader,
        Cidrs acceptFrom,
        Duration maxLifetime) {

    /** The service name of a {@code proxy:} file. */
    public static final String DEFAULT_SERVICE = "default";

    public TcpSettings {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(proxyHeader, "proxyHeader");
        Objects.requireNonNull(acceptFrom, "acceptFrom");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
    }

    /** Settings without a maximum lifetime. */
    public TcpSettings(Duration connectTimeout, Duration idleTimeout, Duration readTimeout, int retries,
            int maxConnections, long bytesPerSecond, boolean accessLog, String service, Send proxyHeader,
            Cidrs acceptFrom) {
        this(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond, accessLog, service,
                proxyHeader, acceptFrom, Duration.ZERO);
    }

    /** Settings that accept PROXY headers from no one. */
    public TcpSettings(Duration connectTimeout, Duration idleTimeout, Duration readTimeout, int retries,
            int maxConnections, long bytesPerSecond, boolean accessLog, String service, Send proxyHeader) {
        this(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond, accessLog, service,
                proxyHeader, Cidrs.NONE);
    }

    /** Settings of the service named {@value #DEFAULT_SERVICE}. */
    public TcpSettings(Duration connectTimeout, Duration idleTimeout, Duration readTimeout, int retries,
            int maxConnections, long bytesPerSecond, boolean accessLog) {
        this(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond, accessLog,
                DEFAULT_SERVICE, Send.NONE);
    }

    /** The settings of one service. */
    public static TcpSettings from(ServiceConfig service, boolean accessLog) {
        TrafficConfig t = service.traffic();
        return new TcpSettings(
                t.timeout().connect(),
                t.timeout().idle(),
                t.timeout().read(),
                t.retries(),
                t.maxConnections(),
                t.rateLimit().perConnection().bytesPerSecond(),
                accessLog,
                service.name(),
                service.proxyProtocol().send(),
                service.proxyProtocol().acceptFrom(),
                t.timeout().maxLifetime());
    }

    /** These settings for the service named {@code name}. */
    public TcpSettings withService(String name) {
        return new TcpSettings(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond,
                accessLog, name, proxyHeader, acceptFrom, maxLifetime);
    }

    /** These settings with another {@code proxy_protocol.send}. */
    public TcpSettings withProxyHeader(Send header) {
        return new TcpSettings(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond,
                accessLog, service, header, acceptFrom, maxLifetime);
    }

    /** These settings with another {@code proxy_protocol.accept_from}. */
    public TcpSettings withAcceptFrom(Cidrs sources) {
        return new TcpSettings(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond,
                accessLog, service, proxyHeader, sources, maxLifetime);
    }

    /** These settings with another {@code max_lifetime}. */
    public TcpSettings withMaxLifetime(Duration lifetime) {
        return new TcpSettings(connectTimeout, idleTimeout, readTimeout, retries, maxConnections, bytesPerSecond,
                accessLog, service, proxyHeader, acceptFrom, lifetime);
    }
}
