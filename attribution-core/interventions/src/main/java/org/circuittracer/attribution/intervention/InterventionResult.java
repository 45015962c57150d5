package org.circuittracer.attribution.intervention;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.dictionary.SparseActivations;

/**
 * The outcome of {@link Interventions#intervene}.
 *
 * @param logits      {@code [T, V]} float32 logits of the intervened pass (after any soft-cap), owned by the caller's
 *                    manager
 * @param activations per layer, the non-zero entries of the transcoder activations computed at each read site during
 *                    the intervened pass (post- or pre-activations per the options; rows at the zeroed positions
 *                    zeroed). As in the reference, an intervened feature's own entry is what its encoder computes, not
 *                    the value it was set to.
 */
public record InterventionResult(NDArray logits, List<SparseActivations> activations) {

    public InterventionResult {
        Objects.requireNonNull(logits, "logits");
        activations = List.copyOf(activations);
    }

    /** The activation of one (layer, position, feature), 0 when absent. */
    public float activation(int layer, int position, int feature) {
        SparseActivations a = activations.get(layer);
        for (int i = 0; i < a.size(); i++) {
            if (a.positionAt(i) == position && a.featureAt(i) == feature) {
                return a.valueAt(i);
            }
        }
        return 0f;
    }
}
