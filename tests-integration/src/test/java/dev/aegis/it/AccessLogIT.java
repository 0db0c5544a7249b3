package dev.aegis.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code logging.access_log} alone decides whether access lines are written, whatever
 * {@code logging.level} says; they and slf4j-simple's lines carry the same UTC timestamp.
 * Each test ends Aegis with SIGTERM, whose graceful shutdown writes every queued access line,
 * so the count is final without waiting for the writer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AccessLogIT {

    /** {@code 2026-11-30T05:13:47.515Z INFO ...}: milliseconds, and Z for UTC. */
    private static final Pattern LINE = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z) (\\w+) ");

    private final Resources resources = new Resources();

    @AfterEach
    void stopEverything() {
        resources.close();
    }

    private static void transfer(AegisProcess aegis, int count) {
        for (int i = 0; i < count; i++) {
            Clients.Transfer t = Clients.echo(aegis.tcp(), i, 1000, 1000, 0, false);
            assertTrue(t.intact(), t::toString);
        }
    }

    private static void stop(AegisProcess aegis) {
        aegis.sigterm();
        assertEquals(0, aegis.awaitExit(Duration.ofSeconds(20)), aegis.tail(20));
    }

    @Test
    void levelErrorStillWritesAccessLinesInUtcLikeTheOtherLines() {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("E", false));
        // The JVM's zone is New York here: the timestamps must still be UTC. The one INFO logger
        // kept on (by slf4j-simple's per-logger property) prints the start line the harness waits for.
        AegisProcess aegis = resources.add(AegisProcess.start("access-level-error", new ConfigYaml()
                .backends(List.of(echo.address()))
                .top("logging:\n  level: error\n  access_log: true\n")
                .build(), Map.of("TZ", "America/New_York",
                        "AEGIS_JAVA_OPTS", "-Dorg.slf4j.simpleLogger.log.dev.aegis.Main=info")));
        transfer(aegis, 3);
        stop(aegis);

        List<String> access = aegis.lines("access protocol=tcp");
        assertEquals(3, access.size(), aegis.tail(20));
        String started = aegis.lines("aegis started").get(0);
        for (String line : List.of(access.get(0), started)) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.find(), line);
            assertEquals("INFO", m.group(2), line);
            Duration off = Duration.between(Instant.parse(m.group(1)), Instant.now()).abs();
            assertTrue(off.compareTo(Duration.ofMinutes(10)) < 0, "not UTC now: " + line);
        }
    }

    @Test
    void accessLogFalseWritesNoAccessLineAtLevelInfo() {
        TcpEchoBackend echo = resources.add(TcpEchoBackend.start("E", false));
        AegisProcess aegis = resources.add(AegisProcess.start("access-off", new ConfigYaml()
                .backends(List.of(echo.address()))
                .top("logging:\n  level: info\n  access_log: false\n")
                .build()));
        transfer(aegis, 3);
        stop(aegis);

        assertEquals(0, aegis.count("access protocol="), aegis.tail(20));
        assertTrue(aegis.count(" INFO ") > 0, "the proxy's own INFO lines are still written");
    }
}
