package dev.aegis.tcp;

import dev.aegis.config.ServiceConfig;
import dev.aegis.config.TrafficConfig;
import java.time.Duration;

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
 */
public record TcpSettings(
        Duration connectTimeout,
        Duration idleTimeout,
        Duration readTimeout,
        int retries,
        int maxConnections,
        long bytesPerSecond,
        boolean accessLog) {

    public static TcpSettings from(ServiceConfig service, boolean accessLog) {
        TrafficConfig t = service.traffic();
        return new TcpSettings(
                t.timeout().connect(),
                t.timeout().idle(),
                t.timeout().read(),
                t.retries(),
                t.maxConnections(),
                t.rateLimit().perConnection().bytesPerSecond(),
                accessLog);
    }
}
