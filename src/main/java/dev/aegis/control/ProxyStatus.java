package dev.aegis.control;

import dev.aegis.config.AegisConfig;
import dev.aegis.tcp.CloseReason;
import dev.aegis.tcp.RejectReason;
import dev.aegis.traffic.CircuitBreaker;
import dev.aegis.udp.UdpStats;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable picture of the running proxy, built by the core on request ({@code Aegis.status()}):
 * what the admin API reports and the metrics export. Live numbers are read when it is built.
 *
 * @param version           the running version
 * @param uptimeSeconds     seconds since start
 * @param draining          new connections and sessions refused
 * @param generation        config generation (1 at start, +1 per applied reload)
 * @param reloadsOk         reloads applied
 * @param reloadsFailed     reloads rejected
 * @param configFile        the file reloads read
 * @param config            the effective configuration
 * @param tcpListener       the current TCP listener, if any
 * @param udpListener       the current UDP listener, if any
 * @param activeConnections open TCP connections, on the current and retired listeners
 * @param udpSessions       live UDP sessions, on the current and retired listeners
 * @param tcpPool           the TCP pool
 * @param udpPool           the UDP pool, if there is one
 * @param tcpTotals         TCP counters summed over every listener since start
 * @param udpTotals         UDP counters summed over every listener since start
 */
public record ProxyStatus(
        String version,
        long uptimeSeconds,
        boolean draining,
        long generation,
        long reloadsOk,
        long reloadsFailed,
        Path configFile,
        AegisConfig config,
        Optional<Listener> tcpListener,
        Optional<Listener> udpListener,
        int activeConnections,
        int udpSessions,
        Pool tcpPool,
        Optional<Pool> udpPool,
        TcpTotals tcpTotals,
        UdpStats udpTotals) {

    /**
     * One bound listener.
     *
     * @param address            the bound address (the real port when 0 was configured)
     * @param acceptedConnections TCP connections accepted by this listener (0 for UDP)
     */
    public record Listener(InetSocketAddress address, long acceptedConnections) {
    }

    /** One backend pool ({@code tcp} or {@code udp}) with its current members in config order. */
    public record Pool(String name, List<Backend> backends) {
        public Pool {
            backends = List.copyOf(backends);
        }
    }

    /** One backend's live numbers. */
    public record Backend(String id, int weight, boolean healthy, CircuitBreaker.Phase circuit,
                          int activeConnections, long totalConnections, long failedConnections) {

        /** Passing its checks (or unchecked) and its circuit not open. */
        public boolean up() {
            return healthy && circuit != CircuitBreaker.Phase.OPEN;
        }
    }

    /**
     * TCP counters summed over every listener since start (a reload that moves the listen
     * address adds a listener; the sums never go backwards).
     */
    public record TcpTotals(int activeConnections, long acceptedConnections, long bytesFromClients,
                            long bytesToClients, Map<RejectReason, Long> rejected, Map<CloseReason, Long> closed) {

        public TcpTotals {
            rejected = Map.copyOf(rejected);
            closed = Map.copyOf(closed);
        }

        public long rejected(RejectReason reason) {
            return rejected.getOrDefault(reason, 0L);
        }

        public long closed(CloseReason reason) {
            return closed.getOrDefault(reason, 0L);
        }
    }
}
