package dev.aegis.health;

import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Sends one small datagram ({@code aegis-health}) from a connected channel and waits for any
 * reply within the timeout. Connecting the channel matters twice: only the backend's own replies
 * are accepted, and an ICMP "port unreachable" surfaces as a {@link java.net.PortUnreachableException}
 * instead of a silent timeout. No reply, for whatever reason, is a failure: a UDP service that
 * never answers cannot be told apart from a dead one.
 */
record UdpProbe() implements HealthProbe {

    static final byte[] PAYLOAD = "aegis-health".getBytes(StandardCharsets.US_ASCII);

    @Override
    public void check(HostPort name, InetSocketAddress target, Duration timeout) throws IOException {
        if (target.isUnresolved()) {
            throw new UnknownHostException(target.getHostString()); // connect() would throw an unchecked one
        }
        long deadline = HealthProbe.deadline(timeout);
        try (DatagramChannel channel = DatagramChannel.open()) {
            channel.connect(target);
            channel.write(ByteBuffer.wrap(PAYLOAD));
            // the socket adaptor gives a blocking receive with a timeout, which the channel lacks
            DatagramSocket socket = channel.socket();
            socket.setSoTimeout(HealthProbe.remainingMillis(deadline));
            socket.receive(new DatagramPacket(new byte[512], 512));
        }
    }
}
