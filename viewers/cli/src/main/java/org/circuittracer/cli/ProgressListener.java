package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Map;

import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;

/** Progress of attribution on stderr (see {@link ConsoleProgress}); records the phase timings in any case. */
final class ProgressListener implements AttributionListener, AutoCloseable {

    private final ConsoleProgress console;
    private final Map<AttributionPhase, Long> nanos = new EnumMap<>(AttributionPhase.class);

    ProgressListener(PrintWriter err, boolean quiet) {
        this.console = new ConsoleProgress(err, quiet);
    }

    void note(String message) {
        console.note(message);
    }

    @Override
    public void phaseStarted(AttributionPhase phase, long totalSteps) {
        console.start(ConsoleProgress.label(phase), totalSteps, "");
    }

    @Override
    public void progress(AttributionPhase phase, long done, long totalSteps) {
        console.step(done, totalSteps, "");
    }

    @Override
    public void phaseFinished(AttributionPhase phase, long phaseNanos) {
        nanos.merge(phase, phaseNanos, Long::sum);
        console.finish(ConsoleProgress.label(phase), phaseNanos, "");
    }

    Map<AttributionPhase, Long> phaseNanos() {
        return nanos;
    }

    @Override
    public void close() {
        console.close();
    }
}
