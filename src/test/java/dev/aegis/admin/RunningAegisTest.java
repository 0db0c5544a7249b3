package dev.aegis.admin;

import dev.aegis.testsupport.TcpEcho;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** What the admin endpoint tests share: a temp dir for the config, echo backends, a running Aegis, all closed after each test. */
abstract class RunningAegisTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    AdminFixture fx;

    @AfterEach
    void tearDown() throws Exception {
        if (fx != null) {
            fx.close();
        }
        for (AutoCloseable r : resources) {
            r.close();
        }
    }

    /** A TCP echo backend on a free loopback port, closed after the test. */
    TcpEcho backend() throws Exception {
        TcpEcho e = new TcpEcho();
        resources.add(e);
        return e;
    }
}
