package org.circuittracer.viewer.work;

import java.nio.file.Path;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.spi.attribution.AttributionListener;

/**
 * The on-demand work a viewer server can do when it has a model loaded: attribute a new prompt, and steer. The
 * server calls it from one thread at a time.
 */
public interface ModelWorkbench {

    /** What is loaded, for the page. */
    WorkbenchInfo info();

    /**
     * Attributes a prompt and exports the graph as {@code <slug>.json} into {@code directory} (updating its index).
     *
     * @param listener progress and cancellation
     */
    GraphJsonExporter.Result createGraph(NewGraphRequest request, Path directory, AttributionListener listener);

    /**
     * Refuses targets that {@link #createGraph} would refuse (not a token, not a difference of two), before any work
     * is queued; the message says which and why.
     */
    default void checkTargets(java.util.List<String> targets) {
    }

    /**
     * Refuses prompts that {@link #createGraph} would refuse or attribute to nothing (past the model's context, no
     * token besides special ones), before any work is queued; the message says how to fix it.
     */
    default void checkPrompt(NewGraphRequest request) {
    }

    /** Runs the steered and the unsteered generation side by side. */
    SteerResult steer(SteerRequest request);
}
