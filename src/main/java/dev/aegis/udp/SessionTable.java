package dev.aegis.udp;

import dev.aegis.accesslog.AccessLog;
import dev.aegis.backend.Backend;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The NAT table of one UDP listener (client address -> session) and the bookkeeping of its
 * sessions: the {@code udp_max_sessions} limit, adding a session, ending one exactly once, the
 * sweep of idle and orphaned sessions, and their counters. The listener keeps the sockets, the
 * read loop and the forwarding.
 *
 * <p>Lookups happen for every datagram on the reader thread and allocate nothing
 * ({@link InetSocketAddress#hashCode()} and {@code equals} are computed from fields). Only the
 * reader thread inserts, so the size limit checked before an insert is exact; the sweeper, the
 * relay and {@code close()} end sessions.
 */
final class SessionTable {

    private final ConcurrentHashMap<InetSocketAddress, UdpSession> sessions = new ConcurrentHashMap<>(256);
    /**
     * Sessions of {@code accept_from} sources, keyed by sender and the client their PROXY header
     * named: one sender (a proxy) carries many clients. Looked up with the reader's mutable probe.
     */
    private final ConcurrentHashMap<ProxiedKey, UdpSession> proxied = new ConcurrentHashMap<>(16);
    /** Told after a session's channel was closed (the relay's selector finishes the close). */
    private final Runnable channelClosed;
    private final LongAdder created = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder ended = new LongAdder();
    private final LongAdder droppedMaxSessions = new LongAdder();
    /**
     * The live sessions of every listener of the service (a port range has many): what
     * {@code udp_max_sessions} limits. Readers of different listeners may race past the limit by
     * at most one session each; one listener's count is exact.
     */
    private final AtomicInteger serviceSessions;

    SessionTable(Runnable channelClosed, AtomicInteger serviceSessions) {
        this.channelClosed = channelClosed;
        this.serviceSessions = serviceSessions;
    }

    UdpSession get(InetSocketAddress client) {
        return sessions.get(client);
    }

    /** The session of an {@code accept_from} sender and client; {@code probe} is matched, never kept. */
    UdpSession get(ProxiedKey probe) {
        return proxied.get(probe);
    }

    /**
     * Is there room for one more session under {@code max} (0 = unlimited)? A refusal is counted
     * ({@code dropped max_sessions}).
     */
    boolean hasRoom(int max) {
        if (max == 0 || serviceSessions.get() < max) {
            return true;
        }
        droppedMaxSessions.increment();
        return false;
    }

    /** A new session: in the table and counted. Reader thread only. */
    void add(UdpSession session) {
        if (session.key != null) {
            proxied.put(session.key, session);
        } else {
            sessions.put(session.client, session);
        }
        serviceSessions.incrementAndGet();
        created.increment();
    }

    /**
     * Takes a session out of the table before it ends, so that the client's next datagram opens a
     * new one instead of going to a session about to close (see {@code ReplyRelay}, which ends a
     * session at its last allowed reply).
     */
    void retire(UdpSession s) {
        remove(s);
    }

    private void remove(UdpSession s) {
        if (s.key != null) {
            proxied.remove(s.key, s);
        } else {
            sessions.remove(s.client, s);
        }
    }

    /**
     * Ends a session once: out of the table, channels closed, a sticky session's backend slot
     * released, counted and logged. A sticky session that ends without a socket error counts as a
     * success for its backend's circuit (one-way protocols never reply; a half-open trial must
     * still be decided). A per-packet session holds no slot and reports per datagram.
     *
     * @return true if this call ended it
     */
    boolean end(UdpSession s, EndReason reason, boolean accessLog) {
        if (!s.markEnded()) {
            return false;
        }
        remove(s); // this very session, not a newer one for the same client
        serviceSessions.decrementAndGet();
        s.closeLegs();
        channelClosed.run();
        Backend b = s.backend();
        if (b != null) {
            b.release();
            if (reason != EndReason.BACKEND_ERROR && s.claimOutcome()) {
                b.recordSuccess();
            }
        }
        ended.increment();
        if (reason == EndReason.IDLE_TIMEOUT) {
            expired.increment();
        }
        if (accessLog) {
            AccessLog.write(s.accessLine(reason, System.nanoTime()));
        }
        return true;
    }

    /**
     * Ends sessions that are idle for {@code idleNanos}, and sticky sessions whose backend left the
     * pool (draining) or is unhealthy while a healthy one exists ({@code someHealthy}). A
     * per-packet session only loses its legs to backends that left the pool: its datagrams are
     * balanced past unhealthy backends anyway.
     */
    void sweep(long now, long idleNanos, boolean someHealthy, boolean accessLog) {
        sweep(sessions.values(), now, idleNanos, someHealthy, accessLog);
        sweep(proxied.values(), now, idleNanos, someHealthy, accessLog);
    }

    private void sweep(Collection<UdpSession> all, long now, long idleNanos, boolean someHealthy, boolean accessLog) {
        for (UdpSession s : all) {
            Backend b = s.backend();
            if (b == null) {
                if (now - s.lastSeenNanos() >= idleNanos) {
                    end(s, EndReason.IDLE_TIMEOUT, accessLog);
                } else if (s.closeLegsOfDrainingBackends()) {
                    channelClosed.run();
                }
            } else if (b.isDraining()) {
                end(s, EndReason.BACKEND_REMOVED, accessLog);
            } else if (!b.isHealthy() && someHealthy) {
                end(s, EndReason.BACKEND_UNHEALTHY, accessLog);
            } else if (now - s.lastSeenNanos() >= idleNanos) {
                end(s, EndReason.IDLE_TIMEOUT, accessLog);
            }
        }
    }

    /** Ends every session (the listener closes). */
    void endAll(EndReason reason, boolean accessLog) {
        for (UdpSession s : sessions.values()) {
            end(s, reason, accessLog);
        }
        for (UdpSession s : proxied.values()) {
            end(s, reason, accessLog);
        }
    }

    int size() {
        return sessions.size() + proxied.size();
    }

    /** A weakly consistent view for snapshots: never throws on concurrent change. */
    Collection<UdpSession> sessions() {
        if (proxied.isEmpty()) {
            return sessions.values();
        }
        List<UdpSession> all = new ArrayList<>(sessions.values());
        all.addAll(proxied.values());
        return all;
    }

    long created() {
        return created.sum();
    }

    long expired() {
        return expired.sum();
    }

    long ended() {
        return ended.sum();
    }

    long droppedMaxSessions() {
        return droppedMaxSessions.sum();
    }
}
