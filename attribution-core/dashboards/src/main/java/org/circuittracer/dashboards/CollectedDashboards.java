package org.circuittracer.dashboards;

import java.util.Optional;

/**
 * The dashboards of every feature of a dictionary over one corpus, ready to be written
 * ({@link org.circuittracer.dashboards.files.DashboardWriter}) or inspected. Holds only the bounded per-feature
 * state and the strings of the tokens it shows; the model and dictionary may be closed. Immutable once returned.
 */
public final class CollectedDashboards {

    private final String scan;
    private final String modelName;
    private final DashboardOptions options;
    private final FeatureState[][] states;
    private final OutputTokenRanking[][] rankings;
    private final String[] tokenStrings;
    private final String joiner;
    private final long documents;
    private final long sequences;
    private final long tokens;

    CollectedDashboards(String scan, String modelName, DashboardOptions options, FeatureState[][] states,
                        OutputTokenRanking[][] rankings, String[] tokenStrings, String joiner, long documents,
                        long sequences, long tokens) {
        this.scan = scan;
        this.modelName = modelName;
        this.options = options;
        this.states = states;
        this.rankings = rankings;
        this.tokenStrings = tokenStrings;
        this.joiner = joiner;
        this.documents = documents;
        this.sequences = sequences;
        this.tokens = tokens;
    }

    /** The transcoder set's identifier the files carry ({@code transcoder_id}). */
    public String scan() {
        return scan;
    }

    /** The model's name, as its configuration gives it. */
    public String modelName() {
        return modelName;
    }

    public DashboardOptions options() {
        return options;
    }

    public int layers() {
        return states.length;
    }

    public int features(int layer) {
        return states[checkLayer(layer)].length;
    }

    /** Documents read from the corpus. */
    public long documents() {
        return documents;
    }

    /** Sequences run through the model (documents are split into chunks of at most the maximum length). */
    public long sequences() {
        return sequences;
    }

    /** Tokens counted for densities: every token except the zeroed special-token positions. */
    public long tokens() {
        return tokens;
    }

    /** How often a feature was non-zero over the corpus. */
    public long activations(int layer, int feature) {
        FeatureState s = state(layer, feature);
        return s == null ? 0 : s.count;
    }

    /** The dashboard of a feature, or empty when it never fired on the corpus. */
    public Optional<FeatureDashboard> dashboard(int layer, int feature) {
        FeatureState s = state(layer, feature);
        if (s == null) {
            return Optional.empty();
        }
        OutputTokenRanking ranking = rankings[layer] == null || rankings[layer][feature] == null
                ? OutputTokenRanking.EMPTY : rankings[layer][feature];
        return Optional.of(DashboardAssembly.assemble(scan, layer, feature, s, ranking, tokenStrings, joiner, tokens,
                options));
    }

    /** The output-token ranking of a feature that fired (empty lists without output tokens). */
    public Optional<OutputTokenRanking> outputTokens(int layer, int feature) {
        if (state(layer, feature) == null) {
            return Optional.empty();
        }
        OutputTokenRanking r = rankings[layer] == null ? null : rankings[layer][feature];
        return Optional.of(r == null ? OutputTokenRanking.EMPTY : r);
    }

    /**
     * An upper estimate of the heap this object holds: per-feature state (examples, sampled activations), rankings and
     * token strings. It is bounded by the options and the dictionary's size, not by the corpus.
     */
    public long retainedBytes() {
        long bytes = 0;
        for (int l = 0; l < states.length; l++) {
            bytes += 16 + 8L * states[l].length;
            for (FeatureState s : states[l]) {
                if (s != null) {
                    bytes += s.retainedBytes() + 16 + 4L * 2 * 4 * (options.outputTokens() + 4);
                }
            }
        }
        bytes += 16 + 8L * tokenStrings.length;
        for (String s : tokenStrings) {
            if (s != null) {
                bytes += 40 + 2L * s.length();
            }
        }
        return bytes;
    }

    private FeatureState state(int layer, int feature) {
        FeatureState[] layerStates = states[checkLayer(layer)];
        if (feature < 0 || feature >= layerStates.length) {
            throw new org.circuittracer.spi.CircuitTracerException(org.circuittracer.spi.StandardErrorCode.INVALID_ARGUMENT,
                    "Feature " + feature + " is outside layer " + layer + "'s features [0, " + layerStates.length + ").");
        }
        return layerStates[feature];
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= states.length) {
            throw new org.circuittracer.spi.CircuitTracerException(org.circuittracer.spi.StandardErrorCode.INVALID_ARGUMENT,
                    "Layer " + layer + " is outside [0, " + states.length + ").");
        }
        return layer;
    }
}
