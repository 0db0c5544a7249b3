package dev.aegis.tcp;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one TCP listener, updated on the data path with striped adders (no lock, no
 * allocation) and read by the admin API and the metrics exporter.
 */
public final class TcpStats {

    final AtomicInteger active = new AtomicInteger();
    final LongAdder accepted = new LongAdder();
    final LongAdder bytesFromClients = new LongAdder();
    final LongAdder bytesToClients = new LongAdder();
    private final LongAdder[] rejected = adders(RejectReason.values().length);
    private final LongAdder[] closed = adders(CloseReason.values().length);

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    void countRejected(RejectReason reason) {
        rejected[reason.ordinal()].increment();
    }

    void countClosed(CloseReason reason) {
        closed[reason.ordinal()].increment();
    }

    /** Connections open now (accepted and not yet closed, including those still connecting). */
    public int activeConnections() {
        return active.get();
    }

    /** Connections accepted since start (including rejected ones). */
    public long acceptedConnections() {
        return accepted.sum();
    }

    public long bytesFromClients() {
        return bytesFromClients.sum();
    }

    public long bytesToClients() {
        return bytesToClients.sum();
    }

    public long rejected(RejectReason reason) {
        return rejected[reason.ordinal()].sum();
    }

    public long closed(CloseReason reason) {
        return closed[reason.ordinal()].sum();
    }
}
