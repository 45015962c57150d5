package org.circuittracer.attribution.exact;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;

/** Reports phases and batches to an {@link AttributionListener} and turns its cancellation into CANCELLED. */
final class Progress {

    private final AttributionListener listener;
    private AttributionPhase phase;
    private long total;
    private long done;
    private long started;

    Progress(AttributionListener listener) {
        this.listener = listener;
    }

    void begin(AttributionPhase next, long steps) {
        checkCancelled();
        phase = next;
        total = steps;
        done = 0;
        started = System.nanoTime();
        listener.phaseStarted(next, steps);
    }

    /** One batch of the current phase is done; checks for cancellation before the next. */
    void step() {
        done++;
        listener.progress(phase, done, total);
        checkCancelled();
    }

    void end() {
        listener.phaseFinished(phase, System.nanoTime() - started);
    }

    void checkCancelled() {
        if (listener.isCancelled()) {
            throw new CircuitTracerException(StandardErrorCode.CANCELLED, "Attribution was cancelled"
                    + (phase == null ? " before it started." : " during " + phase + " after " + done + " of " + total
                    + " steps."));
        }
    }
}
