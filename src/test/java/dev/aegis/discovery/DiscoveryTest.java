package dev.aegis.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aegis.config.Addresses;
import dev.aegis.config.BackendConfig;
import dev.aegis.config.DiscoveryConfig;
import dev.aegis.testsupport.Dnsmasq;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Discovery} against a real dnsmasq on loopback: what each kind of answer makes of the set. */
class DiscoveryTest {

    @TempDir
    Path dir;
    private Dnsmasq dns;

    @BeforeEach
    void startDnsmasq() throws Exception {
        assumeTrue(Dnsmasq.installed(), "dnsmasq is installed by .ci/run (dnsmasq-base)");
        dns = new Dnsmasq(dir, List.of("_app._tcp.svc.test,t1.test,7001,0,30", "_app._tcp.svc.test,t2.test,7002,0,70",
                "_zero._tcp.svc.test,t1.test,7003,0,0"));
        dns.hosts("""
                127.0.0.2 app.test
                127.0.0.3 app.test
                127.0.0.4 app.test
                ::1 app.test
                127.0.0.5 t1.test
                127.0.0.6 t2.test
                127.0.0.7 t2.test
                """);
        dns.start();
    }

    @AfterEach
    void stopDnsmasq() throws Exception {
        if (dns != null) {
            dns.close();
        }
    }

    private DiscoveryConfig config(List<String> names, int port, int weight) {
        return new DiscoveryConfig(names, Duration.ofSeconds(1), port, List.of(Addresses.parseBackend(dns.address())),
                Optional.empty(), weight);
    }

    private static List<String> ids(Discovery d) {
        return d.backends().stream().map(b -> b.id() + " w" + b.weight()).sorted().toList();
    }

    @Test
    void anANameGivesOneBackendPerAddressOnTheConfiguredPortAndWeight() {
        Discovery d = new Discovery("s", config(List.of("app.test"), 8080, 7), null);
        d.refresh();
        assertEquals(List.of("127.0.0.2:8080 w7", "127.0.0.3:8080 w7", "127.0.0.4:8080 w7", "[::1]:8080 w7"), ids(d));
        assertEquals(Map.of("app.test", 0L), d.errors());
    }

    @Test
    void anSrvNameGivesEachTargetAddressWithItsPortAndWeight() {
        Discovery d = new Discovery("s", config(List.of("_app._tcp.svc.test", "_zero._tcp.svc.test"), 0, 100), null);
        d.refresh();
        // weight 0 of RFC 2782 is the smallest share, not none
        assertEquals(List.of("127.0.0.5:7001 w30", "127.0.0.5:7003 w1", "127.0.0.6:7002 w70", "127.0.0.7:7002 w70"), ids(d));
    }

    @Test
    void aFailedOrEmptyAnswerKeepsTheLastGoodSetOfThatNameAndCountsAnError() throws Exception {
        Discovery d = new Discovery("s", config(List.of("app.test", "t1.test"), 80, 100), null);
        d.refresh();
        dns.hosts("127.0.0.5 t1.test\n"); // app.test no longer exists: an empty answer
        dns.reload();
        d.refresh();
        assertEquals(List.of("127.0.0.2:80 w100", "127.0.0.3:80 w100", "127.0.0.4:80 w100", "127.0.0.5:80 w100",
                "[::1]:80 w100"), ids(d));
        assertEquals(Map.of("app.test", 1L, "t1.test", 0L), d.errors());

        dns.stop(); // no answer at all
        d.refresh();
        d.refresh();
        assertEquals(5, d.backends().size());
        assertEquals(Map.of("app.test", 3L, "t1.test", 2L), d.errors());
    }

    @Test
    void withoutResolversTheSystemsResolverAnswersAsForEveryProgramOnTheHost() {
        Discovery d = new Discovery("s", new DiscoveryConfig(List.of("localhost"), Duration.ofSeconds(1), 9000, List.of(),
                Optional.empty(), 100), null);
        d.refresh();
        assertTrue(ids(d).contains("127.0.0.1:9000 w100"), ids(d).toString()); // /etc/hosts
        assertEquals(Map.of("localhost", 0L), d.errors());
    }

    @Test
    void aFailureEpisodeIsLoggedOnceWhenItStartsAndOnceWhenItEnds() throws Exception {
        Discovery d = new Discovery("s", config(List.of("t1.test"), 80, 100), null);
        // slf4j-simple writes to System.err as it is at each event
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            d.refresh();
            dns.stop();
            d.refresh();
            d.refresh();
            d.refresh();
            dns.restart();
            d.refresh();
            d.refresh();
        } finally {
            System.setErr(err);
        }
        List<String> lines = captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains("name=t1.test")).toList();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("WARN discovery failed, keeping the last good set service=s name=t1.test kept=1"),
                lines.get(0));
        assertTrue(lines.get(1).contains("INFO discovery recovered service=s name=t1.test addresses=1"), lines.get(1));
        assertEquals(Map.of("t1.test", 3L), d.errors());
    }

    @Test
    void aNameThatNeverResolvedGivesNoBackendAndCountsErrors() {
        Discovery d = new Discovery("s", config(List.of("nothing.test"), 80, 100), null);
        d.refresh();
        assertEquals(List.of(), d.backends());
        assertEquals(Map.of("nothing.test", 1L), d.errors());
    }

    @Test
    void aReplacementStartsFromTheAnswersOfThePreviousOneUnderItsOwnPortAndWeight() throws Exception {
        Discovery first = new Discovery("s", config(List.of("app.test", "t1.test"), 80, 100), null);
        first.refresh();
        dns.stop();
        Discovery next = new Discovery("s", config(List.of("t1.test"), 81, 5), first);
        assertEquals(List.of("127.0.0.5:81 w5"), ids(next)); // before it asked DNS at all
        List<BackendConfig> none = new Discovery("s", new DiscoveryConfig(List.of("t1.test"), Duration.ofSeconds(1), 81,
                List.of(Addresses.parseBackend("127.0.0.1:1")), Optional.empty(), 5), first).backends();
        assertEquals(List.of(), none, "other resolvers: nothing carried over");
    }
}
