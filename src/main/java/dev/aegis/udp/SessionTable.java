package dev.aegis.udp;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The NAT table of one UDP listener: client address -> session. Lookups happen for every datagram
 * on the reader thread and allocate nothing ({@link InetSocketAddress#hashCode()} and
 * {@code equals} are computed from fields). Only the reader thread inserts, so the size limit
 * checked before an insert is exact; the sweeper, the relay and {@code close()} remove.
 */
final class SessionTable {

    private final ConcurrentHashMap<InetSocketAddress, UdpSession> sessions = new ConcurrentHashMap<>(256);

    UdpSession get(InetSocketAddress client) {
        return sessions.get(client);
    }

    /** Is there room for one more session under {@code max} (0 = unlimited)? */
    boolean hasRoom(int max) {
        return max == 0 || sessions.size() < max;
    }

    void put(UdpSession session) {
        sessions.put(session.client, session);
    }

    /** Removes this very session (not a newer one for the same client). */
    void remove(UdpSession session) {
        sessions.remove(session.client, session);
    }

    int size() {
        return sessions.size();
    }

    /** A weakly consistent view for the sweep and snapshots: never throws on concurrent change. */
    Collection<UdpSession> sessions() {
        return sessions.values();
    }
}
