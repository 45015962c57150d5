package org.circuittracer.cli;

import java.io.PrintWriter;
import java.util.Locale;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of one command on stderr, phase by phase: a bar while a phase runs when stderr is a terminal, and one
 * "done in" line when it finishes (the only output when stderr is a file or pipe). Silent when quiet.
 */
final class ConsoleProgress implements AutoCloseable {

    private final PrintWriter err;
    private final boolean quiet;
    private final boolean terminal;
    private ProgressBar bar;

    ConsoleProgress(PrintWriter err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
        this.terminal = System.console() != null;
    }

    /** A line of information, unless quiet. */
    void note(String message) {
        if (!quiet) {
            err.println(message);
            err.flush();
        }
    }

    /** Opens the bar of a phase; {@code max} ≤ 0 when unknown; {@code unit} may be empty. */
    void start(String phase, long max, String unit) {
        if (quiet || !terminal) {
            return;
        }
        closeBar();
        try {
            ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(phase).setInitialMax(max > 0 ? max : -1)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).continuousUpdate();
            if (!unit.isEmpty()) {
                builder.setUnit(unit, 1);
            }
            bar = builder.build();
        } catch (RuntimeException | LinkageError e) {
            bar = null; // the "done in" line still reports the phase
        }
    }

    /** Moves the bar to {@code done} of {@code max} (a max that became known late is applied). */
    void step(long done, long max, String extraMessage) {
        if (bar != null) {
            if (max > 0 && bar.getMax() != max) {
                bar.maxHint(max);
            }
            bar.stepTo(done);
            if (!extraMessage.isEmpty()) {
                bar.setExtraMessage(extraMessage);
            }
        }
    }

    /** Closes the phase's bar and prints its "done in" line with an optional suffix. */
    void finish(String phase, long nanos, String suffix) {
        closeBar();
        note(String.format(Locale.ROOT, "%-13s done in %.2f s%s", phase, nanos / 1e9, suffix));
    }

    /** A phase name as printed: lower case, spaces for underscores. */
    static String label(Enum<?> phase) {
        return phase.name().toLowerCase(Locale.ROOT).replace('_', ' ');
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
}
