package dev.aegis.control;

import java.util.function.ObjLongConsumer;

/**
 * Where the core reports how long backend connects took, per service: the metrics' histogram.
 * Handed to the core by the composition root, so that the core never imports the metrics.
 */
public interface ConnectTimes {

    /** Reports to nowhere (tests, tools). */
    ConnectTimes NONE = new ConnectTimes() {
        @Override
        public ObjLongConsumer<String> service(String name) {
            return (backend, nanos) -> { };
        }

        @Override
        public void forget(String name) {
        }
    };

    /**
     * The recorder of one service, asked once when the service is built; it is called on the data
     * path with the id of the backend and each successful connect's duration in nanoseconds, so it
     * must be cheap (no allocation once the backend has been seen).
     */
    ObjLongConsumer<String> service(String name);

    /** The service is gone (removed by a reload, or built for a reload that was rejected): drop its series. */
    void forget(String name);
}
