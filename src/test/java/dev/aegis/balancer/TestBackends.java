package dev.aegis.balancer;

import dev.aegis.backend.Backend;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Builds backends 127.0.0.1:3000+i for the balancer tests; no sockets are opened. */
final class TestBackends {

    private TestBackends() {
    }

    static Backend backend(int i, int weight) {
        return backend(i, weight, 0);
    }

    static Backend backend(int i, int weight, int maxConnections) {
        HostPort address = new HostPort("127.0.0.1", 3000 + i);
        return new Backend(new BackendConfig(address, weight, maxConnections, Optional.empty()),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000 + i),
                new CircuitBreakerConfig(5, Duration.ofSeconds(30)));
    }

    /** One backend per weight, numbered from 0. */
    static List<Backend> withWeights(int... weights) {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(backend(i, weights[i]));
        }
        return list;
    }

    /** {@code count} backends of the default weight. */
    static List<Backend> equal(int count) {
        int[] weights = new int[count];
        Arrays.fill(weights, BackendConfig.DEFAULT_WEIGHT);
        return withWeights(weights);
    }

    /** The client hash of 10.(i/65536).(i/256).(i%256): distinct clients for distinct i. */
    static int client(int i) {
        try {
            byte[] ip = {10, (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
            return Balancers.hashClient(InetAddress.getByAddress(ip));
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // a 4-byte address never needs a lookup
        }
    }
}
