package org.circuittracer.cli;

import java.nio.file.Path;

import org.circuittracer.attribution.export.ExportOptions;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Where and how a command writes the viewer's graph JSON ({@code attribute}, {@code export}): the directory, the
 * pruning thresholds and the node-id policy. Mix it in with {@code @CommandLine.Mixin}.
 */
final class GraphJsonOptions {

    static final Path DEFAULT_DIRECTORY = Path.of("graphs");

    @Option(names = {"--graph-file-dir", "--graph_file_dir"}, defaultValue = "graphs", paramLabel = "DIR",
            description = "Directory for NAME.json and graph-metadata.json, created if missing (default: "
                    + "${DEFAULT-VALUE}).")
    Path directory;

    @Option(names = {"--node-threshold", "--node_threshold"}, defaultValue = "0.8", paramLabel = "X",
            description = "Node pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double nodeThreshold;

    @Option(names = {"--edge-threshold", "--edge_threshold"}, defaultValue = "0.98", paramLabel = "Y",
            description = "Edge pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double edgeThreshold;

    @Option(names = "--strict-node-ids",
            description = "Refuse to write the viewer JSON when an error node's reference id 0_L_P equals a kept "
                    + "layer-0 feature's id, instead of writing the error node as 0_L_P_error (attribute still saves "
                    + "the computed graph as a graph file).")
    boolean strictNodeIds;

    /** Refuses thresholds outside [0, 1] before any work. */
    void check(CommandLine.Model.CommandSpec spec) {
        check(spec, "--node-threshold", nodeThreshold);
        check(spec, "--edge-threshold", edgeThreshold);
    }

    /** {@code options} with these thresholds and this node-id policy. */
    ExportOptions apply(ExportOptions options) {
        return options.withThresholds(nodeThreshold, edgeThreshold).withStrictNodeIds(strictNodeIds);
    }

    private static void check(CommandLine.Model.CommandSpec spec, String option, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be in [0.0, 1.0], got "
                    + value + ".");
        }
    }
}
