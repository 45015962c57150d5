package org.circuittracer.attribution.intervention;

import java.util.Optional;

/**
 * How an intervention is run (docs/reference/algorithm.md §7.3). Let {@code C} be the constrained layers and {@code R = C} if given,
 * else every layer. The modes:
 * <ul>
 *   <li><b>iterative patching</b> ({@link #defaults()}): attention patterns frozen, norms and MLPs live; downstream
 *       features respond, each intervened feature is forced to its target given the current upstream state;</li>
 *   <li><b>free patching</b> ({@link #free()}): nothing frozen;</li>
 *   <li><b>constrained</b> ({@link #constrained(int, int)}): patterns frozen; MLP outputs of layers in {@code C}
 *       replaced by their clean values (plus the change of the skip term); deltas computed against the clean
 *       activations; only decoder writes landing in {@code C} applied;</li>
 *   <li><b>direct effects</b> ({@link #directEffects(int)}, {@code C} = every layer): additionally every norm scale
 *       frozen, i.e. the linearised model of §2.4, where pre-activation changes equal attribution edges.</li>
 * </ul>
 *
 * @param constrained             the constrained layers {@code C}, or empty
 * @param freezeAttention         replace attention patterns by the clean pass's (default true, as the reference);
 *                                patterns are frozen whenever {@code C} is given, whatever this says
 * @param applyActivationFunction whether the returned activations are post-activations (true) or pre-activations
 */
public record InterventionOptions(Optional<LayerRange> constrained, boolean freezeAttention,
                                  boolean applyActivationFunction) {

    /** A half-open range of layers {@code [start, end)}; checked against the model when used. */
    public record LayerRange(int start, int end) {
        boolean contains(int layer) {
            return layer >= start && layer < end;
        }

        @Override
        public String toString() {
            return "[" + start + ", " + end + ")";
        }
    }

    public InterventionOptions {
        constrained = constrained == null ? Optional.empty() : constrained;
    }

    /** Iterative patching: attention frozen, nothing constrained, post-activations. */
    public static InterventionOptions defaults() {
        return new InterventionOptions(Optional.empty(), true, true);
    }

    /** Free patching: nothing frozen. */
    public static InterventionOptions free() {
        return new InterventionOptions(Optional.empty(), false, true);
    }

    /** Constrained to layers {@code [start, end)}. */
    public static InterventionOptions constrained(int start, int end) {
        return new InterventionOptions(Optional.of(new LayerRange(start, end)), true, true);
    }

    /** Direct effects: every one of {@code layers} layers constrained (norm scales frozen too). */
    public static InterventionOptions directEffects(int layers) {
        return constrained(0, layers);
    }

    public InterventionOptions withFreezeAttention(boolean freeze) {
        return new InterventionOptions(constrained, freeze, applyActivationFunction);
    }

    public InterventionOptions withActivationFunction(boolean apply) {
        return new InterventionOptions(constrained, freezeAttention, apply);
    }
}
