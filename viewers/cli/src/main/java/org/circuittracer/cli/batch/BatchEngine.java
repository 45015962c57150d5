package org.circuittracer.cli.batch;

/**
 * Runs {@code circuit-tracer batch}: attribution of many prompts on a distributed engine. The base tool has none; an
 * add-on (the Spark module) provides one through {@code META-INF/services}, so the base tool never depends on it.
 */
public interface BatchEngine {

    /** The engine's name, for messages. */
    String name();

    /** Attributes every prompt of {@code request}; a bad prompt is a failed row, not a failed run. */
    BatchOutcome run(BatchRequest request, BatchProgress progress);
}
