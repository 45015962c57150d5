package org.circuittracer.dashboards;

/**
 * Receives progress and can cancel. Called from the working thread; implementations must be quick. Cancellation is
 * cooperative: checked between batches and layers, then a {@link org.circuittracer.spi.CircuitTracerException} with
 * code {@code CANCELLED} is thrown.
 */
public interface DashboardListener {

    /** A listener that ignores everything and never cancels. */
    DashboardListener NONE = new DashboardListener() {
    };

    /** A phase begins; {@code totalSteps} is its number of steps, 0 if unknown. */
    default void phaseStarted(DashboardPhase phase, long totalSteps) {
    }

    /**
     * {@code done} of the phase's steps are finished.
     *
     * @param tokens corpus tokens processed so far (CORPUS), else 0
     */
    default void progress(DashboardPhase phase, long done, long totalSteps, long tokens) {
    }

    /** A phase ended after {@code nanos} nanoseconds. */
    default void phaseFinished(DashboardPhase phase, long nanos) {
    }

    /** Polled between batches and layers. */
    default boolean isCancelled() {
        return false;
    }
}
