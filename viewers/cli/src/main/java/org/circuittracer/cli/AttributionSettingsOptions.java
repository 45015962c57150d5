package org.circuittracer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How each prompt is attributed and pruned, as {@link PromptAttribution.Settings}: the options of {@code batch}, with
 * {@code attribute}'s names and defaults (which declares them itself for now). Mix it in with
 * {@code @CommandLine.Mixin}.
 */
final class AttributionSettingsOptions {

    @Option(names = {"--max-n-logits", "--max_n_logits"}, defaultValue = "10", paramLabel = "N",
            description = "Most logits to attribute from (default: ${DEFAULT-VALUE}).")
    int maxNLogits;

    @Option(names = {"--desired-logit-prob", "--desired_logit_prob"}, defaultValue = "0.95", paramLabel = "P",
            description = "Stop adding logits once their probability reaches P (default: ${DEFAULT-VALUE}).")
    double desiredLogitProb;

    @Option(names = {"--max-feature-nodes", "--max_feature_nodes"}, defaultValue = "7500", paramLabel = "N",
            description = "Most feature nodes, 0 = all (default: ${DEFAULT-VALUE}).")
    int maxFeatureNodes;

    @Option(names = {"--batch-size", "--batch_size"}, defaultValue = "256", paramLabel = "N",
            description = "Rows per backward batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = {"--node-threshold", "--node_threshold"}, defaultValue = "0.8", paramLabel = "X",
            description = "Node pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double nodeThreshold;

    @Option(names = {"--edge-threshold", "--edge_threshold"}, defaultValue = "0.98", paramLabel = "Y",
            description = "Edge pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double edgeThreshold;

    /** The settings, checked before any work. */
    PromptAttribution.Settings settings(CommandLine.Model.CommandSpec spec) {
        if (!(desiredLogitProb > 0 && desiredLogitProb <= 1)) {
            throw usage(spec, "--desired-logit-prob must be in (0, 1], got " + desiredLogitProb + ".");
        }
        if (!(nodeThreshold >= 0 && nodeThreshold <= 1) || !(edgeThreshold >= 0 && edgeThreshold <= 1)) {
            throw usage(spec, "--node-threshold and --edge-threshold must be in [0.0, 1.0], got " + nodeThreshold
                    + " and " + edgeThreshold + ".");
        }
        if (maxNLogits < 1 || batchSize < 1) {
            throw usage(spec, "--max-n-logits and --batch-size must be >= 1, got " + maxNLogits + " and " + batchSize
                    + ".");
        }
        if (maxFeatureNodes < 0) {
            throw usage(spec, "--max-feature-nodes must be >= 0 (0 = all), got " + maxFeatureNodes + ".");
        }
        return new PromptAttribution.Settings(maxNLogits, desiredLogitProb, maxFeatureNodes, batchSize, nodeThreshold,
                edgeThreshold, false);
    }

    private static CommandLine.ParameterException usage(CommandLine.Model.CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }
}
