package dev.aegis.logging;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * One slf4j logger: each event is one line on stderr, {@code <timestamp> LEVEL message}, written
 * with a single {@code write} so that lines from concurrent threads (and the access log, which
 * writes the same way) never interleave. A throwable's stack trace follows its line.
 */
final class StderrLogger extends LegacyAbstractLogger {

    private static final OutputStream STDERR = new FileOutputStream(FileDescriptor.err);

    private final LogLevel threshold;

    StderrLogger(String name, LogLevel threshold) {
        this.name = name;
        this.threshold = threshold;
    }

    @Override
    public boolean isTraceEnabled() {
        return threshold.enables(Level.TRACE);
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
        return isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return threshold.enables(Level.DEBUG);
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
        return isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return threshold.enables(Level.INFO);
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
        return isInfoEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
        return threshold.enables(Level.WARN);
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
        return isWarnEnabled();
    }

    @Override
    public boolean isErrorEnabled() {
        return threshold.enables(Level.ERROR);
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
        return isErrorEnabled();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
            Throwable throwable) {
        write(format(System.currentTimeMillis(), level, pattern, arguments, throwable));
    }

    /** The bytes of one event: its line, then the stack trace of {@code throwable} if any. */
    static byte[] format(long epochMillis, Level level, String pattern, Object[] arguments, Throwable throwable) {
        StringBuilder line = new StringBuilder(128);
        UtcTimestamp.append(line, epochMillis).append(' ').append(level.name()).append(' ')
                .append(MessageFormatter.basicArrayFormat(pattern, arguments)).append('\n');
        if (throwable == null) {
            return line.toString().getBytes(StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (PrintStream out = new PrintStream(bytes, false, StandardCharsets.UTF_8)) {
            out.print(line);
            throwable.printStackTrace(out);
        }
        return bytes.toByteArray();
    }

    private static void write(byte[] event) {
        try {
            STDERR.write(event);
        } catch (IOException ignored) {
            // stderr is gone (closed by the supervisor): nothing left to log to
        }
    }
}
