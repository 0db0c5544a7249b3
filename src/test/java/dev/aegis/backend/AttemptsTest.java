package dev.aegis.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aegis.backend.Attempts.Outcome;
import dev.aegis.backend.Attempts.Result;
import dev.aegis.backend.BackendPool.ResolvedBackend;
import dev.aegis.balancer.Balancers;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HostPort;
import dev.aegis.config.LoadBalancingConfig;
import dev.aegis.config.LoadBalancingConfig.Algorithm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The backend selection and retry routine that TCP connections and UDP sessions share. */
class AttemptsTest {

    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(100, Duration.ofSeconds(30));

    @Test
    void aFailedBackendIsCountedAndReleasedAndTheNextOneIsTried() {
        BackendSet set = pool(3).current();
        List<Backend> seen = new ArrayList<>();

        Result r = Attempts.run(set, 0, 5, (b, x) -> {
            seen.add(b);
            return seen.size() < 3 ? Outcome.BACKEND_FAILED : Outcome.CONNECTED;
        }, null);

        assertEquals(Result.CONNECTED, r);
        assertEquals(3, seen.stream().distinct().count(), "each backend tried once");
        assertEquals(1, seen.get(0).failedConnections());
        assertEquals(0, seen.get(0).activeConnections(), "a failed backend's slot is given back");
        assertEquals(1, seen.get(2).activeConnections(), "the connected backend keeps its slot");
    }

    @Test
    void retriesStopAfterTheConfiguredNumberOfFailures() {
        BackendSet set = pool(4).current();
        int[] tries = {0};

        Result r = Attempts.run(set, 0, 1, (b, x) -> {
            tries[0]++;
            return Outcome.BACKEND_FAILED;
        }, null);

        assertEquals(Result.BACKENDS_FAILED, r);
        assertEquals(2, tries[0], "one try and one retry");
    }

    @Test
    void aLocalFailureTriesNoOtherBackendAndIsNotTheBackendsFault() {
        BackendSet set = pool(3).current();
        List<Backend> seen = new ArrayList<>();

        Result r = Attempts.run(set, 0, 5, (b, x) -> {
            seen.add(b);
            return Outcome.LOCAL_FAILURE;
        }, null);

        assertEquals(Result.LOCAL_FAILURE, r);
        assertEquals(1, seen.size());
        assertEquals(0, seen.get(0).failedConnections());
        assertEquals(0, seen.get(0).activeConnections());
    }

    @Test
    void noEligibleBackendIsNoBackendAndEveryBackendFailingIsBackendsFailed() {
        BackendSet empty = pool(0).current();
        assertEquals(Result.NO_BACKEND, Attempts.run(empty, 0, 5, (b, x) -> Outcome.CONNECTED, null));

        BackendSet set = pool(2).current();
        assertEquals(Result.BACKENDS_FAILED, Attempts.run(set, 0, Integer.MAX_VALUE, (b, x) -> Outcome.BACKEND_FAILED, null));
        assertEquals(Result.NO_BACKEND, Attempts.run(set, 0, Integer.MAX_VALUE, (b, x) -> Outcome.SKIPPED, null),
                "a skipped backend is not a failed one");
    }

    private static BackendPool pool(int size) {
        List<ResolvedBackend> entries = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            entries.add(new ResolvedBackend(new BackendConfig(new HostPort("127.0.0.1", 3000 + i), 100, 0, Optional.empty()),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 3000 + i)));
        }
        return new BackendPool("tcp", entries, new LoadBalancingConfig(Algorithm.ROUND_ROBIN, false, 0), CIRCUIT,
                Balancers::create);
    }
}
