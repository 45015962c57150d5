package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionPhase;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress on stderr: a progress bar per phase when stderr is a terminal, otherwise one line per finished phase.
 * Records the phase timings in any case.
 */
final class ProgressListener implements AttributionListener, AutoCloseable {

    private final PrintWriter err;
    private final boolean quiet;
    private final boolean terminal;
    private final Map<AttributionPhase, Long> nanos = new EnumMap<>(AttributionPhase.class);
    private ProgressBar bar;

    ProgressListener(PrintWriter err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
        this.terminal = System.console() != null;
    }

    void note(String message) {
        if (!quiet) {
            err.println(message);
            err.flush();
        }
    }

    @Override
    public void phaseStarted(AttributionPhase phase, long totalSteps) {
        if (quiet || !terminal) {
            return;
        }
        closeBar();
        try {
            bar = new ProgressBarBuilder().setTaskName(label(phase)).setInitialMax(Math.max(totalSteps, 0))
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).continuousUpdate().build();
        } catch (RuntimeException | LinkageError e) {
            bar = null; // the text lines below still report the phase
        }
    }

    @Override
    public void progress(AttributionPhase phase, long done, long totalSteps) {
        if (bar != null) {
            if (totalSteps > 0 && bar.getMax() != totalSteps) {
                bar.maxHint(totalSteps);
            }
            bar.stepTo(done);
        }
    }

    @Override
    public void phaseFinished(AttributionPhase phase, long phaseNanos) {
        nanos.merge(phase, phaseNanos, Long::sum);
        if (bar != null) {
            closeBar();
        }
        if (!quiet) {
            err.println(String.format(Locale.ROOT, "%-13s done in %.2f s", label(phase), phaseNanos / 1e9));
            err.flush();
        }
    }

    Map<AttributionPhase, Long> phaseNanos() {
        return nanos;
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void close() {
        closeBar();
    }

    private static String label(AttributionPhase phase) {
        return phase.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
