package dev.aegis.logging;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Aegis's slf4j backend (found through {@code META-INF/services}): the output of slf4j-simple as
 * Aegis configured it (one {@code <timestamp> LEVEL message} line per event on stderr, one level
 * for every logger, the same system property for it), without slf4j-simple's
 * {@code SimpleDateFormat}, which alone cost ~5 MB of the proxy's resident memory (README, "Memory").
 */
public final class StderrLoggerProvider implements SLF4JServiceProvider {

    private ILoggerFactory loggers;
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override
    public void initialize() {
        LogLevel level = LogLevel.fromSystemProperty();
        ConcurrentMap<String, Logger> byName = new ConcurrentHashMap<>();
        loggers = name -> byName.computeIfAbsent(name, n -> new StderrLogger(n, level));
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return loggers;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }
}
