package org.circuittracer.attribution.export;

import java.util.Objects;
import org.circuittracer.attribution.attention.GraphHeadLoadings;

/**
 * Head loadings in an exported graph: the exporter hands the links it keeps to {@code compute} and writes, on each,
 * the {@code topK} heads per layer by |loading| and the per-layer bypass (docs/formats/graph-json.md, "Head
 * loadings").
 *
 * @param topK    heads kept per layer and link, ≥ 1
 * @param compute splits the edges {@code (targets[e] ← sources[e])} (graph node indices) over heads
 */
public record HeadLoadingExport(int topK, Computation compute) {

    /** Splits a graph's edges over heads, e.g. {@code HeadLoadingPass::compute} bound to a graph and its targets. */
    @FunctionalInterface
    public interface Computation {
        /** The split, or null to export the graph without head loadings (the caller reports why). */
        GraphHeadLoadings of(int[] targets, int[] sources);
    }

    public HeadLoadingExport {
        Objects.requireNonNull(compute, "compute");
        if (topK < 1) {
            throw org.circuittracer.spi.CircuitTracerException.invalidArgument("Head loadings keep at least one head "
                    + "per layer; got " + topK + ".");
        }
    }
}
