package dev.aegis.udp;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A snapshot of one live UDP session, for the admin API.
 *
 * @param client            the client's address (the session key)
 * @param backend           the backend's id (its address as written in the config)
 * @param age               time since the session opened
 * @param idle              time since the latest datagram in either direction
 * @param packetsFromClient datagrams received from the client
 * @param bytesFromClient   payload bytes received from the client
 * @param packetsToClient   replies sent to the client
 * @param bytesToClient     payload bytes sent to the client
 */
public record UdpSessionView(
        InetSocketAddress client,
        String backend,
        Duration age,
        Duration idle,
        long packetsFromClient,
        long bytesFromClient,
        long packetsToClient,
        long bytesToClient) {
}
