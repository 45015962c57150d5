package org.circuittracer.cli;

import java.io.PrintWriter;

import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardPhase;

/** Progress of {@code features} on stderr (see {@link ConsoleProgress}); the corpus phase also counts tokens. */
final class DashboardProgress implements DashboardListener, AutoCloseable {

    private final ConsoleProgress console;
    private long tokens;

    DashboardProgress(PrintWriter err, boolean quiet) {
        this.console = new ConsoleProgress(err, quiet);
    }

    void note(String message) {
        console.note(message);
    }

    @Override
    public void phaseStarted(DashboardPhase phase, long totalSteps) {
        console.start(ConsoleProgress.label(phase), totalSteps, phase == DashboardPhase.CORPUS ? " docs" : " layers");
    }

    @Override
    public void progress(DashboardPhase phase, long done, long totalSteps, long tokenCount) {
        tokens = Math.max(tokens, tokenCount);
        console.step(done, totalSteps, phase == DashboardPhase.CORPUS ? " " + tokenCount + " tokens" : "");
    }

    @Override
    public void phaseFinished(DashboardPhase phase, long nanos) {
        console.finish(ConsoleProgress.label(phase), nanos,
                phase == DashboardPhase.CORPUS ? " (" + tokens + " tokens)" : "");
    }

    @Override
    public void close() {
        console.close();
    }
}
