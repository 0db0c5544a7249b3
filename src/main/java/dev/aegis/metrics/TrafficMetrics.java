package dev.aegis.metrics;

import dev.aegis.control.ProxyStatus;
import dev.aegis.control.ProxyStatus.TcpTotals;
import dev.aegis.tcp.CloseReason;
import dev.aegis.tcp.RejectReason;
import dev.aegis.udp.UdpStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Listener-level series, all callbacks over the totals of a fresh {@link ProxyStatus} (the
 * listeners' own striped counters summed over every listener since start, read at scrape time,
 * nothing added to the data path). The original's names ({@code proxy_active_connections},
 * {@code proxy_total_connections}, {@code proxy_bytes_*}) count TCP; UDP has its own
 * {@code proxy_udp_*} series, whose {@code direction} is {@code from_client} or {@code to_client}
 * (the access log's {@code bytes_received} and {@code bytes_sent}).
 */
final class TrafficMetrics {

    private final Supplier<ProxyStatus> status;

    TrafficMetrics(Supplier<ProxyStatus> status, PrometheusRegistry registry) {
        this.status = status;
        // No unit on the original byte counters: the client would append "_bytes" to their names.
        GaugeWithCallback.builder()
                .name("proxy_active_connections")
                .help("Open TCP connections (original Aegis name).")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.tcpTotals().activeConnections(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_total_connections")
                .help("TCP connections accepted, rejected ones included (original Aegis name).")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.tcpTotals().acceptedConnections(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_bytes_sent_total")
                .help("TCP payload bytes sent to clients (original Aegis name).")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.tcpTotals().bytesToClients(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_bytes_received_total")
                .help("TCP payload bytes received from clients (original Aegis name).")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.tcpTotals().bytesFromClients(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_rejected_connections_total")
                .help("New TCP connections closed at once and datagrams of new UDP sessions dropped, by reason "
                        + "(for UDP, max_connections means udp_max_sessions).")
                .labelNames("service", "protocol", "reason")
                .callback(cb -> each(s -> {
                    String n = s.name();
                    for (RejectReason r : RejectReason.values()) {
                        cb.call(s.tcpTotals().rejected(r), n, "tcp", r.label());
                    }
                    UdpStats u = s.udpTotals();
                    cb.call(u.droppedRateLimited(), n, "udp", RejectReason.RATE_LIMITED.label());
                    cb.call(u.droppedNoBackend(), n, "udp", RejectReason.NO_BACKEND.label());
                    cb.call(u.droppedMaxSessions(), n, "udp", RejectReason.MAX_CONNECTIONS.label());
                    cb.call(u.droppedDraining(), n, "udp", RejectReason.DRAINING.label());
                }))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_closed_connections_total")
                .help("TCP connections that passed admission and ended, by reason (the access log's reason=).")
                .labelNames("service", "reason")
                .callback(cb -> each(s -> {
                    TcpTotals t = s.tcpTotals();
                    for (CloseReason r : CloseReason.values()) {
                        cb.call(t.closed(r), s.name(), r.label());
                    }
                }))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_queue_length")
                .help("TCP connections waiting in the service's queue for a backend slot (queue.size), now.")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.tcpTotals().queueLength(), s.name())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("proxy_draining")
                .help("1 while draining (new connections and sessions refused), else 0.")
                .callback(cb -> cb.call(status.get().draining() ? 1 : 0))
                .register(registry);
        registerUdp(registry);
    }

    private void each(Consumer<ProxyStatus.ServiceStatus> action) {
        status.get().services().forEach(action);
    }

    private void registerUdp(PrometheusRegistry registry) {
        GaugeWithCallback.builder()
                .name("proxy_udp_active_sessions")
                .help("Live UDP sessions.")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.udpTotals().activeSessions(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_udp_sessions_total")
                .help("UDP sessions opened.")
                .labelNames("service")
                .callback(cb -> each(s -> cb.call(s.udpTotals().sessionsCreated(), s.name())))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_udp_packets_total")
                .help("UDP datagrams received from clients and sent to clients.")
                .labelNames("service", "direction")
                .callback(cb -> each(s -> {
                    UdpStats u = s.udpTotals();
                    cb.call(u.packetsFromClients(), s.name(), "from_client");
                    cb.call(u.packetsToClients(), s.name(), "to_client");
                }))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_udp_bytes_total")
                .help("UDP payload bytes received from clients and sent to clients.")
                .unit(Unit.BYTES)
                .labelNames("service", "direction")
                .callback(cb -> each(s -> {
                    UdpStats u = s.udpTotals();
                    cb.call(u.bytesFromClients(), s.name(), "from_client");
                    cb.call(u.bytesToClients(), s.name(), "to_client");
                }))
                .register(registry);
        CounterWithCallback.builder()
                .name("proxy_udp_dropped_total")
                .help("Client datagrams not passed on, by reason: no session could be opened (max_sessions, "
                        + "no_backend, rate_limited, draining), the session was over its packet rate (packet_rate) "
                        + "or the backend socket did not take it (unsent), or Aegis could not open a socket for a new "
                        + "session, typically for want of file descriptors (local_error), or a datagram from an accept_from "
                        + "sender did not start with a valid v2 PROXY header (bad_proxy_header).")
                .labelNames("service", "reason")
                .callback(cb -> each(s -> {
                    UdpStats u = s.udpTotals();
                    String n = s.name();
                    cb.call(u.droppedMaxSessions(), n, "max_sessions");
                    cb.call(u.droppedNoBackend(), n, "no_backend");
                    cb.call(u.droppedRateLimited(), n, "rate_limited");
                    cb.call(u.droppedDraining(), n, "draining");
                    cb.call(u.droppedPacketRate(), n, "packet_rate");
                    cb.call(u.datagramsUnsent(), n, "unsent");
                    cb.call(u.droppedLocalError(), n, "local_error");
                    cb.call(u.droppedBadProxyHeader(), n, "bad_proxy_header");
                }))
                .register(registry);
    }
}
