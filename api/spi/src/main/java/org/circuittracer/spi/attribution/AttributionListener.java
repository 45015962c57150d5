package org.circuittracer.spi.attribution;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Receives progress from an {@link Attributor} and can cancel it. Called from the attributing thread; implementations
 * must be quick. Cancellation is cooperative: the attributor checks {@link #isCancelled()} between batches and then
 * throws a {@link org.circuittracer.spi.CircuitTracerException} with code {@code CANCELLED}.
 */
@ProviderType
public interface AttributionListener {

    /** A listener that ignores everything and never cancels. */
    AttributionListener NONE = new AttributionListener() {
    };

    /** A phase begins; {@code totalSteps} is its number of steps (batches), 0 if unknown. */
    default void phaseStarted(AttributionPhase phase, long totalSteps) {
    }

    /** {@code done} of the phase's steps are finished. */
    default void progress(AttributionPhase phase, long done, long totalSteps) {
    }

    /** A phase ended after {@code nanos} nanoseconds. */
    default void phaseFinished(AttributionPhase phase, long nanos) {
    }

    /** Polled between batches. */
    default boolean isCancelled() {
        return false;
    }
}
