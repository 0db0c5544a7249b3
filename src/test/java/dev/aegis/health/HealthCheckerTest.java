package dev.aegis.health;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aegis.backend.Backend;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.CircuitBreakerConfig;
import dev.aegis.config.HealthCheckConfig;
import dev.aegis.config.HealthCheckConfig.Scheme;
import dev.aegis.config.HostPort;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthCheckerTest {

    private static final CircuitBreakerConfig CIRCUIT = new CircuitBreakerConfig(5, Duration.ofSeconds(30));
    private static final Duration FAST = Duration.ofMillis(50);

    /** A health transition as the listener saw it, with the backend's answer streak at that moment. */
    private record Transition(Backend backend, boolean healthy, int streak) {
    }

    private final List<Transition> transitions = new CopyOnWriteArrayList<>();
    private volatile HttpBackend streakSource;
    private final HealthChecker checker = new HealthChecker((backend, healthy) -> transitions.add(
            new Transition(backend, healthy, streakSource == null ? 0 : streakSource.streak.get())));

    @AfterEach
    void closeChecker() {
        checker.close();
    }

    private static ConditionFactory within(Duration atMost) {
        return await().atMost(atMost).pollInterval(Duration.ofMillis(10));
    }

    private static HealthCheckConfig check(Duration interval, Duration timeout, String path, int healthy, int unhealthy) {
        return new HealthCheckConfig(interval, timeout, Optional.ofNullable(path), Scheme.HTTP, healthy, unhealthy);
    }

    private static BackendConfig config(InetSocketAddress address, HealthCheckConfig check) {
        return new BackendConfig(new HostPort("127.0.0.1", address.getPort()), 100, 0, Optional.ofNullable(check));
    }

    private static Backend backend(InetSocketAddress address, HealthCheckConfig check) {
        return new Backend(config(address, check), address, CIRCUIT);
    }

    private static InetSocketAddress closedTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
    }

    private static InetSocketAddress closedUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(s.getLocalAddress(), s.getLocalPort());
        }
    }

    /**
     * A probe that was already in flight may still land; after that, no request may come for six
     * intervals: the count must stay the same from one poll to the next for 300 ms on end (a
     * change restarts the 300 ms), instead of a fixed pause before taking the count.
     */
    private static void assertNoMoreRequests(HttpBackend http) {
        int[] seen = {-1};
        within(Duration.ofSeconds(3)).during(Duration.ofMillis(300)).until(() -> {
            int now = http.requests.size();
            boolean unchanged = now == seen[0];
            seen[0] = now;
            return unchanged;
        });
    }

    @Test
    void anHttpBackendGoesDownAfterUnhealthyThresholdFailuresAndUpAfterHealthyThresholdPasses() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            streakSource = http;
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 3));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> http.passed.get() >= 2);
            assertTrue(b.isHealthy());
            assertTrue(transitions.isEmpty(), "healthy from the start: nothing to announce");

            http.status.set(500);
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 1);
            assertFalse(b.isHealthy());
            assertEquals(List.of(new Transition(b, false, -3)), transitions, "down exactly at the third failure");

            http.status.set(200);
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 2);
            assertTrue(b.isHealthy());
            assertEquals(new Transition(b, true, 2), transitions.get(1), "up exactly at the second pass");
        }
    }

    @Test
    void aClosedPortFailsTheTcpCheck() throws IOException {
        InetSocketAddress closed = closedTcpPort();
        Backend b = backend(closed, check(FAST, Duration.ofSeconds(1), null, 2, 2));
        checker.watch("tcp", false, List.of(b));
        within(Duration.ofSeconds(5)).until(() -> !transitions.isEmpty());
        assertFalse(b.isHealthy());
        assertEquals(List.of(new Transition(b, false, 0)), transitions);
    }

    @Test
    void aHangingBackendFailsByTimeoutAndItsChecksNeverOverlap() throws IOException {
        try (HangingBackend hanging = new HangingBackend()) {
            // the timeout is five intervals long: overlapping checks would show at once
            Backend b = backend(hanging.address(), check(FAST, Duration.ofMillis(250), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> !b.isHealthy() && hanging.accepted.get() >= 3);
            assertEquals(0, hanging.overlaps.get());
        }
    }

    @Test
    void theUdpPoolChecksWithDatagrams() throws IOException {
        try (UdpEcho echo = new UdpEcho(false)) {
            HealthCheckConfig udpCheck = check(FAST, Duration.ofMillis(300), null, 2, 2);
            Backend answering = backend(echo.address(), udpCheck);
            answering.setHealthy(false); // so that its passing checks must show
            Backend closed = backend(closedUdpPort(), udpCheck);
            checker.watch("udp", true, List.of(answering, closed));
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 2);
            assertTrue(answering.isHealthy());
            assertFalse(closed.isHealthy());
            assertTrue(echo.received.get() >= 2);
            assertTrue(transitions.contains(new Transition(answering, true, 0)));
            assertTrue(transitions.contains(new Transition(closed, false, 0)));
        }
    }

    @Test
    void backendsWithoutAHealthCheckAreNotCheckedAndStayHealthy() throws IOException {
        Backend unchecked = backend(closedTcpPort(), null);
        checker.watch("tcp", false, List.of(unchecked));
        assertEquals(0, checker.watchedBackends());
        within(Duration.ofMillis(500)).during(Duration.ofMillis(200)).until(unchecked::isHealthy);
        assertTrue(transitions.isEmpty());
    }

    @Test
    void aBackendThatLeftThePoolIsNoLongerChecked() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> http.requests.size() >= 2);
            checker.watch("tcp", false, List.of());
            assertEquals(0, checker.watchedBackends());
            assertNoMoreRequests(http);
        }
    }

    @Test
    void aKeptBackendKeepsItsStateAndAChangedThresholdApplies() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            streakSource = http;
            http.status.set(503);
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 1);

            // reload: same backend object, stricter recovery
            b.update(config(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 4, 2)), http.address(), CIRCUIT);
            checker.watch("tcp", false, List.of(b));
            assertFalse(b.isHealthy(), "a reload does not reset health");
            assertEquals(1, checker.watchedBackends());

            http.status.set(200);
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 2);
            assertTrue(b.isHealthy());
            assertEquals(List.of(new Transition(b, false, -2), new Transition(b, true, 4)), transitions);
        }
    }

    @Test
    void aChangedIntervalTakesEffect() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            Backend b = backend(http.address(), check(Duration.ofHours(1), Duration.ofSeconds(1), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            b.update(config(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2)), http.address(), CIRCUIT);
            checker.watch("tcp", false, List.of(b));
            // an hourly check would allow at most one request in this time
            within(Duration.ofSeconds(3)).until(() -> http.requests.size() >= 3);
        }
    }

    @Test
    void removingTheCheckDeclaresTheBackendHealthyAgain() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            http.status.set(500);
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> transitions.size() == 1);
            assertFalse(b.isHealthy());

            b.update(config(http.address(), null), http.address(), CIRCUIT);
            checker.watch("tcp", false, List.of(b));
            assertTrue(b.isHealthy());
            assertEquals(0, checker.watchedBackends());
            assertEquals(new Transition(b, true, 0), transitions.get(1));
            assertEquals(2, transitions.size());
        }
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheChecks() throws IOException {
        try (HttpBackend http = new HttpBackend();
                HealthChecker throwing = new HealthChecker((backend, healthy) -> {
                    throw new IllegalStateException("listener bug");
                })) {
            http.status.set(500);
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2));
            throwing.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> !b.isHealthy());
            http.status.set(200);
            within(Duration.ofSeconds(5)).until(b::isHealthy);
        }
    }

    @Test
    void closeStopsEveryCheck() throws IOException {
        try (HttpBackend http = new HttpBackend()) {
            Backend b = backend(http.address(), check(FAST, Duration.ofSeconds(1), "/health", 2, 2));
            checker.watch("tcp", false, List.of(b));
            within(Duration.ofSeconds(5)).until(() -> http.requests.size() >= 1);
            checker.close();
            assertNoMoreRequests(http);
            checker.watch("tcp", false, List.of(b));
            assertEquals(0, checker.watchedBackends(), "a closed checker takes no new work");
        }
    }
}
