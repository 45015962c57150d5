package org.circuittracer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How each prompt is attributed and pruned, as {@link PromptAttribution.Settings}: the options of {@code batch}: the
 * limits {@code attribute} shares, and the viewer JSON's pruning thresholds. Mix it in with
 * {@code @CommandLine.Mixin}.
 */
final class AttributionSettingsOptions {

    @CommandLine.Mixin
    AttributionLimitsOptions limits = new AttributionLimitsOptions();

    @Option(names = {"--node-threshold", "--node_threshold"}, defaultValue = "0.8", paramLabel = "X",
            description = "Node pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double nodeThreshold;

    @Option(names = {"--edge-threshold", "--edge_threshold"}, defaultValue = "0.98", paramLabel = "Y",
            description = "Edge pruning threshold for the viewer JSON (default: ${DEFAULT-VALUE}).")
    double edgeThreshold;

    @Option(names = "--head-loadings", arity = "0..1", fallbackValue = "3", paramLabel = "TOP_K",
            description = "Also split every kept link of each graph over the attention heads that carry it (TOP_K "
                    + "heads per layer on each link, 3 when no number is given; docs/attention.md).")
    Integer headLoadings;

    /** The settings, checked before any work. */
    PromptAttribution.Settings settings(CommandLine.Model.CommandSpec spec) {
        limits.check(spec);
        if (!(nodeThreshold >= 0 && nodeThreshold <= 1) || !(edgeThreshold >= 0 && edgeThreshold <= 1)) {
            throw AttributionLimitsOptions.usage(spec, "--node-threshold and --edge-threshold must be in [0.0, 1.0], "
                    + "got " + nodeThreshold + " and " + edgeThreshold + ".");
        }
        if (headLoadings != null && headLoadings < 1) {
            throw AttributionLimitsOptions.usage(spec, "--head-loadings takes the number of heads per layer to keep on "
                    + "each link (at least 1), got " + headLoadings + ".");
        }
        return new PromptAttribution.Settings(limits.maxNLogits, limits.desiredLogitProb, limits.maxFeatureNodes,
                limits.batchSize, nodeThreshold, edgeThreshold, false, headLoadings == null ? 0 : headLoadings, 0,
                PromptAttribution.Settings.DEFAULT_QK_LINKS);
    }
}
