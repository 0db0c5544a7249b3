package dev.aegis.metrics;

import dev.aegis.Service;
import dev.aegis.tcp.TcpStats;
import dev.aegis.udp.UdpListener;
import dev.aegis.udp.UdpStats;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToLongFunction;

/**
 * Sums the counters of every listener a service has had, so that the exported counters never go
 * backwards when a reload moves a listen address (the new listener starts from zero, the old one
 * carries on until its traffic ends). Listeners are remembered from the first scrape that sees
 * them (and from {@link ProxyMetrics#start}); a reload moves a listener rarely, so the list stays
 * short (one entry per move). A listener that lived only between two scrapes is not counted.
 */
final class ListenerTotals {

    private final Service service;
    private final CopyOnWriteArrayList<TcpStats> tcp = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<UdpListener> udp = new CopyOnWriteArrayList<>();

    ListenerTotals(Service service) {
        this.service = service;
    }

    /** The sum of one TCP counter over every listener seen. */
    long tcp(ToLongFunction<TcpStats> counter) {
        service.tcpListener().ifPresent(l -> tcp.addIfAbsent(l.stats())); // identity: TcpStats keeps Object.equals
        long sum = 0;
        for (TcpStats s : tcp) {
            sum += counter.applyAsLong(s);
        }
        return sum;
    }

    /** Every UDP counter summed over every listener seen (all zero without a UDP listener). */
    UdpStats udp() {
        service.udpListener().ifPresent(udp::addIfAbsent);
        List<UdpListener> all = udp;
        long[] t = new long[14];
        int active = 0;
        for (UdpListener l : all) {
            UdpStats s = l.stats();
            active += s.activeSessions();
            t[0] += s.sessionsCreated();
            t[1] += s.sessionsExpired();
            t[2] += s.sessionsEnded();
            t[3] += s.droppedMaxSessions();
            t[4] += s.droppedNoBackend();
            t[5] += s.droppedRateLimited();
            t[6] += s.droppedDraining();
            t[7] += s.droppedPacketRate();
            t[8] += s.datagramsUnsent();
            t[9] += s.packetsFromClients();
            t[10] += s.bytesFromClients();
            t[11] += s.packetsToClients();
            t[12] += s.bytesToClients();
            t[13] += s.droppedLocalError();
        }
        return new UdpStats(active, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[13], t[8], t[9], t[10], t[11], t[12]);
    }
}
