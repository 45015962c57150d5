package org.circuittracer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * How much of a prompt is attributed: logits, feature nodes and the backward batch. Shared by {@code attribute} and
 * {@code batch} ({@code @CommandLine.Mixin}).
 */
final class AttributionLimitsOptions {

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

    /** Refuses values out of range before anything is loaded. */
    void check(CommandLine.Model.CommandSpec spec) {
        if (!(desiredLogitProb > 0 && desiredLogitProb <= 1)) {
            throw usage(spec, "--desired-logit-prob must be in [0 (exclusive), 1.0], got " + desiredLogitProb + ".");
        }
        if (maxNLogits < 1) {
            throw usage(spec, "--max-n-logits must be >= 1, got " + maxNLogits + ".");
        }
        if (maxFeatureNodes < 0) {
            throw usage(spec, "--max-feature-nodes must be >= 0 (0 = all), got " + maxFeatureNodes + ".");
        }
        if (batchSize < 1) {
            throw usage(spec, "--batch-size must be >= 1, got " + batchSize + ".");
        }
    }

    static CommandLine.ParameterException usage(CommandLine.Model.CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), "Invalid value: " + message);
    }
}
