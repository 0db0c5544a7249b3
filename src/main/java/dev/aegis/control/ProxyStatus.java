package dev.aegis.control;

import dev.aegis.config.AegisConfig;
import dev.aegis.config.ServiceConfig;
import dev.aegis.tcp.CloseReason;
import dev.aegis.tcp.RejectReason;
import dev.aegis.traffic.CircuitBreaker;
import dev.aegis.udp.UdpStats;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable picture of the running proxy, built by the core on request ({@code Aegis.status()}):
 * what the admin API reports and the metrics export. Live numbers are read when it is built.
 *
 * @param version           the running version
 * @param uptimeSeconds     seconds since start
 * @param draining          every service refuses new connections and sessions
 * @param generation        config generation (1 at start, +1 per applied reload)
 * @param reloadsOk         reloads applied
 * @param reloadsFailed     reloads rejected
 * @param configFile        the file reloads read
 * @param config            the effective configuration
 * @param services          every service, in config order
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
        List<ServiceStatus> services) {

    public ProxyStatus {
        services = List.copyOf(services);
    }

    public Optional<ServiceStatus> service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public List<String> serviceNames() {
        return services.stream().map(ServiceStatus::name).toList();
    }

    /** Open TCP connections of every service. */
    public int activeConnections() {
        return services.stream().mapToInt(ServiceStatus::activeConnections).sum();
    }

    /** Live UDP sessions of every service. */
    public int udpSessions() {
        return services.stream().mapToInt(ServiceStatus::udpSessions).sum();
    }

    /**
     * One service.
     *
     * @param name              its name ({@code default} for a {@code proxy:} file)
     * @param config            its effective configuration
     * @param draining          it refuses new connections and sessions
     * @param tcpListeners      its bound TCP listeners, in config order
     * @param udpListeners      its bound UDP listeners, in config order
     * @param activeConnections open TCP connections, on the current and retired listeners
     * @param udpSessions       live UDP sessions, on the current and retired listeners
     * @param tcpPool           the TCP pool
     * @param udpPool           the UDP pool, if there is one
     * @param tcpTotals         TCP counters summed over every listener since start
     * @param udpTotals         UDP counters summed over every listener since start
     * @param tlsPools          the pools of its {@code tls_routes} ({@code tls:<first server name>}), in route order
     * @param discoveryErrors   per name of its {@code discovery}, failed, timed-out and empty DNS answers
     *                          since start (empty without discovery)
     */
    public record ServiceStatus(
            String name,
            ServiceConfig config,
            boolean draining,
            List<Listener> tcpListeners,
            List<Listener> udpListeners,
            int activeConnections,
            int udpSessions,
            Pool tcpPool,
            Optional<Pool> udpPool,
            TcpTotals tcpTotals,
            UdpStats udpTotals,
            List<Pool> tlsPools,
            Map<String, Long> discoveryErrors) {

        public ServiceStatus {
            tcpListeners = List.copyOf(tcpListeners);
            udpListeners = List.copyOf(udpListeners);
            tlsPools = List.copyOf(tlsPools);
            discoveryErrors = Collections.unmodifiableMap(new LinkedHashMap<>(discoveryErrors)); // in name order
        }

        /** A service without discovery. */
        public ServiceStatus(String name, ServiceConfig config, boolean draining, List<Listener> tcpListeners,
                List<Listener> udpListeners, int activeConnections, int udpSessions, Pool tcpPool,
                Optional<Pool> udpPool, TcpTotals tcpTotals, UdpStats udpTotals, List<Pool> tlsPools) {
            this(name, config, draining, tcpListeners, udpListeners, activeConnections, udpSessions, tcpPool,
                    udpPool, tcpTotals, udpTotals, tlsPools, Map.of());
        }

        /** A service without TLS routes. */
        public ServiceStatus(String name, ServiceConfig config, boolean draining, List<Listener> tcpListeners,
                List<Listener> udpListeners, int activeConnections, int udpSessions, Pool tcpPool,
                Optional<Pool> udpPool, TcpTotals tcpTotals, UdpStats udpTotals) {
            this(name, config, draining, tcpListeners, udpListeners, activeConnections, udpSessions, tcpPool,
                    udpPool, tcpTotals, udpTotals, List.of());
        }

        /** The pools in the order the admin API lists them: TCP, then UDP, then the TLS routes'. */
        public List<Pool> pools() {
            List<Pool> pools = new ArrayList<>(2 + tlsPools.size());
            pools.add(tcpPool);
            udpPool.ifPresent(pools::add);
            pools.addAll(tlsPools);
            return List.copyOf(pools);
        }
    }

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

    /**
     * One backend's live numbers; {@code bytesFromClients} and {@code bytesToClients} count the
     * TCP payload of its connections (UDP sessions are counted per service only).
     *
     * @param source where it came from: {@code config} (the file), {@code dns} (discovery) or
     *               {@code api} (added through the admin API)
     */
    public record Backend(String id, int weight, boolean healthy, CircuitBreaker.Phase circuit,
                          int activeConnections, long totalConnections, long failedConnections,
                          long bytesFromClients, long bytesToClients, String source) {

        public static final String CONFIG = "config";
        public static final String DNS = "dns";
        public static final String API = "api";

        /** A backend of the config file. */
        public Backend(String id, int weight, boolean healthy, CircuitBreaker.Phase circuit,
                       int activeConnections, long totalConnections, long failedConnections,
                       long bytesFromClients, long bytesToClients) {
            this(id, weight, healthy, circuit, activeConnections, totalConnections, failedConnections,
                    bytesFromClients, bytesToClients, CONFIG);
        }

        /** Passing its checks (or unchecked) and its circuit not open. */
        public boolean up() {
            return healthy && circuit != CircuitBreaker.Phase.OPEN;
        }
    }

    /**
     * TCP counters summed over every listener since start (a reload that moves the listen
     * address adds a listener; the sums never go backwards), and the service's queue now.
     *
     * @param queueLength connections waiting in the service's {@code queue} for a backend slot now
     */
    public record TcpTotals(int activeConnections, long acceptedConnections, long bytesFromClients,
                            long bytesToClients, Map<RejectReason, Long> rejected, Map<CloseReason, Long> closed,
                            int queueLength) {

        public TcpTotals {
            rejected = Map.copyOf(rejected);
            closed = Map.copyOf(closed);
        }

        /** Totals with nobody queued. */
        public TcpTotals(int activeConnections, long acceptedConnections, long bytesFromClients, long bytesToClients,
                Map<RejectReason, Long> rejected, Map<CloseReason, Long> closed) {
            this(activeConnections, acceptedConnections, bytesFromClients, bytesToClients, rejected, closed, 0);
        }

        public long rejected(RejectReason reason) {
            return rejected.getOrDefault(reason, 0L);
        }

        public long closed(CloseReason reason) {
            return closed.getOrDefault(reason, 0L);
        }
    }
}
