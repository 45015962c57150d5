package org.circuittracer.dashboards;

import java.util.Arrays;
import java.util.Collection;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The dashboards state of one slice of a corpus ({@link FeatureDashboards#collectPartial}): per feature the kept top
 * examples, band candidates and activation sample, counts and extremes, and the slice's corpus counts. Partial states
 * of disjoint slices {@link #merge merge} into the state of their union; merging is associative and commutative, so
 * the merged state, and the files written from it ({@link FeatureDashboards#finish}), do not depend on how the corpus
 * was cut or in which order the parts are merged: they equal one pass over the whole corpus exactly.
 *
 * <p>{@link #toBytes()} and {@link #fromBytes(byte[])} move a state between machines (a compact binary form, the
 * same bytes for the same state). Bounded like the single pass: see {@link DashboardOptions}. Immutable.
 */
public final class PartialDashboards {

    private final DashboardOptions options;
    private final FeatureState[][] states;
    private final long documents;
    private final long sequences;
    private final long tokens;

    PartialDashboards(DashboardOptions options, FeatureState[][] states, long documents, long sequences, long tokens) {
        this.options = options;
        this.states = states;
        this.documents = documents;
        this.sequences = sequences;
        this.tokens = tokens;
    }

    /** An empty state: the identity of {@link #merge}. */
    public static PartialDashboards empty(DashboardOptions options, int[] featuresPerLayer) {
        FeatureState[][] states = new FeatureState[featuresPerLayer.length][];
        for (int l = 0; l < states.length; l++) {
            states[l] = new FeatureState[featuresPerLayer[l]];
        }
        return new PartialDashboards(options, states, 0, 0, 0);
    }

    public DashboardOptions options() {
        return options;
    }

    /** Documents read. */
    public long documents() {
        return documents;
    }

    /** Sequences run through the model. */
    public long sequences() {
        return sequences;
    }

    /** Tokens counted for densities (special-token positions excluded). */
    public long tokens() {
        return tokens;
    }

    /** The number of features of each layer. */
    public int[] featuresPerLayer() {
        return Arrays.stream(states).mapToInt(l -> l.length).toArray();
    }

    /** How often a feature was non-zero in this slice. */
    public long activations(int layer, int feature) {
        FeatureState s = states[layer][feature];
        return s == null ? 0 : s.count;
    }

    /**
     * The state of both slices together (which must be disjoint, computed with the same options but for the batch
     * size, which changes nothing, over the same dictionary). Neither is changed.
     *
     * @throws CircuitTracerException INCOMPATIBLE_INPUTS when the options or the dictionaries' shapes differ
     */
    public PartialDashboards merge(PartialDashboards other) {
        if (!options.withBatchSize(1).equals(other.options.withBatchSize(1))) {
            throw new CircuitTracerException(StandardErrorCode.INCOMPATIBLE_INPUTS, "Partial dashboards computed with "
                    + "different options cannot be merged: " + options + " and " + other.options + ". Compute every "
                    + "part of the corpus with the same options.");
        }
        if (!Arrays.equals(featuresPerLayer(), other.featuresPerLayer())) {
            throw new CircuitTracerException(StandardErrorCode.INCOMPATIBLE_INPUTS, "Partial dashboards of different "
                    + "dictionaries cannot be merged (features per layer " + Arrays.toString(featuresPerLayer())
                    + " and " + Arrays.toString(other.featuresPerLayer()) + "). Use one transcoder set for all parts.");
        }
        FeatureState[][] merged = new FeatureState[states.length][];
        for (int l = 0; l < states.length; l++) {
            merged[l] = new FeatureState[states[l].length];
            for (int f = 0; f < merged[l].length; f++) {
                FeatureState a = states[l][f];
                FeatureState b = other.states[l][f];
                merged[l][f] = a == null ? b : b == null ? a : FeatureState.merge(a, b, options);
            }
        }
        return new PartialDashboards(options, merged, documents + other.documents, sequences + other.sequences,
                tokens + other.tokens);
    }

    /** All of {@code parts} merged, in any order; at least one part. */
    public static PartialDashboards mergeAll(Collection<PartialDashboards> parts) {
        return parts.stream().reduce(PartialDashboards::merge).orElseThrow(() -> new CircuitTracerException(
                StandardErrorCode.INVALID_ARGUMENT, "No partial dashboards to merge; give at least one part."));
    }

    /** The state in binary form; equal states give equal bytes. */
    public byte[] toBytes() {
        return PartialCodec.write(this);
    }

    /**
     * A state from {@link #toBytes()}.
     *
     * @throws CircuitTracerException MALFORMED_FILE for bytes that are not one
     */
    public static PartialDashboards fromBytes(byte[] bytes) {
        return PartialCodec.read(bytes);
    }

    FeatureState[][] states() {
        return states;
    }
}
