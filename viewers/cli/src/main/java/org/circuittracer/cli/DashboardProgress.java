package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.Locale;

import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardPhase;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress of {@code features} on stderr: a bar per phase on a terminal, otherwise one line per finished phase. */
final class DashboardProgress implements DashboardListener, AutoCloseable {

    private final PrintWriter err;
    private final boolean quiet;
    private final boolean terminal;
    private ProgressBar bar;
    private long tokens;

    DashboardProgress(PrintWriter err, boolean quiet) {
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
    public void phaseStarted(DashboardPhase phase, long totalSteps) {
        if (quiet || !terminal) {
            return;
        }
        closeBar();
        try {
            bar = new ProgressBarBuilder().setTaskName(label(phase)).setInitialMax(totalSteps > 0 ? totalSteps : -1)
                    .setUnit(phase == DashboardPhase.CORPUS ? " docs" : " layers", 1).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(200).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .continuousUpdate().build();
        } catch (RuntimeException | LinkageError e) {
            bar = null; // the text lines below still report the phase
        }
    }

    @Override
    public void progress(DashboardPhase phase, long done, long totalSteps, long tokenCount) {
        tokens = Math.max(tokens, tokenCount);
        if (bar != null) {
            bar.stepTo(done);
            if (phase == DashboardPhase.CORPUS) {
                bar.setExtraMessage(" " + tokenCount + " tokens");
            }
        }
    }

    @Override
    public void phaseFinished(DashboardPhase phase, long nanos) {
        closeBar();
        if (!quiet) {
            err.println(String.format(Locale.ROOT, "%-13s done in %.2f s%s", label(phase), nanos / 1e9,
                    phase == DashboardPhase.CORPUS ? " (" + tokens + " tokens)" : ""));
            err.flush();
        }
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

    private static String label(DashboardPhase phase) {
        return phase.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
