package dev.aegis.udp;

import java.net.InetSocketAddress;

/**
 * Decides whether a datagram from a client without a session may open one. This is where rate
 * limiting plugs in (a token bucket per listener and per client IP). It is asked once per new
 * session, never for datagrams of a session that already exists, and it runs on the listener's
 * reader thread: it must be fast and must not block.
 */
@FunctionalInterface
public interface UdpAdmission {

    /** Admits every new session (no rate limit configured). */
    UdpAdmission ADMIT_ALL = client -> true;

    /**
     * @param client the source address of the datagram that would open the session
     * @return true to open the session, false to drop the datagram (counted as {@code rate_limited})
     */
    boolean admitNewSession(InetSocketAddress client);
}
