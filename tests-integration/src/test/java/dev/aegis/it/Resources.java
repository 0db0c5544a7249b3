package dev.aegis.it;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test started (Aegis processes, backends, clients), closed in reverse order by the
 * test class's {@code @AfterEach} whatever happened: no process or port outlives its test.
 */
final class Resources implements AutoCloseable {

    private final Deque<AutoCloseable> open = new ArrayDeque<>();

    <T extends AutoCloseable> T add(T resource) {
        open.push(resource);
        return resource;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        while (!open.isEmpty()) {
            try {
                open.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("cleanup failed", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
