package org.circuittracer.cli.batch;

import java.util.function.Consumer;

import org.circuittracer.dashboards.DashboardListener;

/**
 * Runs {@code circuit-tracer features --master ...}: feature dashboards over a corpus on a distributed engine, equal
 * file for file to the single-machine command's. The base tool has none; an add-on (the Spark module) provides one
 * through {@code META-INF/services}, so the base tool never depends on it.
 */
public interface DashboardEngine {

    /** The engine's name, for messages. */
    String name();

    /**
     * Computes the dashboards of the request's corpus and writes them into its output directory (atomically, as the
     * single-machine command does).
     *
     * @param listener hears the corpus phase (documents done / total), output tokens and the write
     * @param notes    one-line messages (starting the engine, loading the model)
     */
    DashboardOutcome run(DashboardRequest request, DashboardListener listener, Consumer<String> notes);
}
