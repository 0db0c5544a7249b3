package dev.aegis.health;

import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/** Healthy when a TCP connection is accepted within the timeout; it is closed at once. */
record TcpProbe() implements HealthProbe {

    @Override
    public void check(HostPort name, InetSocketAddress target, Duration timeout) throws IOException {
        long deadline = HealthProbe.deadline(timeout);
        try (Socket socket = new Socket()) {
            socket.connect(target, HealthProbe.remainingMillis(deadline));
        }
    }
}
