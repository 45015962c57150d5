package org.circuittracer.attribution.intervention;

import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Positions;

/**
 * One feature intervention (docs/reference/algorithm.md §7.2): set the post-activation value of feature {@code feature} of source
 * layer {@code layer} at {@code positions} to a target. It is realised by adding {@code (target − current) × decoder row}
 * at every output layer the feature writes to, on top of the real MLP output; entries whose delta is exactly 0 are
 * skipped, and when several interventions select the same (layer, position, feature) the last one in the list wins.
 *
 * <p>{@link Mode#SET} targets {@code value}; {@link Mode#SCALE} targets {@code value × current}, where {@code current}
 * is the value the delta is computed against: the clean activation in constrained modes, the live activation given
 * the intervened upstream state otherwise (so {@code scale(…, 1)} never changes anything and {@code scale(…, 0)}
 * ablates).
 *
 * @param layer     the feature's source layer, {@code 0 … L−1}
 * @param positions explicit positions, a bounded range, or an open-ended slice ({@link Positions#from(int)}), which
 *                  in {@link Interventions#generate steered generation} also reaches every generated position
 * @param feature   the feature id, {@code 0 … F−1} of the layer
 * @param mode      absolute value or multiplier
 * @param value     the absolute target or the multiplier (finite)
 */
public record Intervention(int layer, Positions positions, int feature, Mode mode, double value) {

    /** How {@link #value()} is read. */
    public enum Mode {
        /** Set the activation to {@code value}. */
        SET,
        /** Multiply the current activation by {@code value}. */
        SCALE
    }

    public Intervention {
        Objects.requireNonNull(positions, "positions");
        Objects.requireNonNull(mode, "mode");
        if (!Double.isFinite(value)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The intervention on feature "
                    + feature + " of layer " + layer + " has value " + value + "; give a finite number.");
        }
    }

    /** Sets the feature to {@code value} at {@code positions}. */
    public static Intervention set(int layer, Positions positions, int feature, double value) {
        return new Intervention(layer, positions, feature, Mode.SET, value);
    }

    /** Multiplies the feature's current activation by {@code factor} at {@code positions}. */
    public static Intervention scale(int layer, Positions positions, int feature, double factor) {
        return new Intervention(layer, positions, feature, Mode.SCALE, factor);
    }

    /** The target for a given current activation. */
    float target(float current) {
        return mode == Mode.SET ? (float) value : (float) (value * current);
    }

    @Override
    public String toString() {
        return "L" + layer + "/" + feature + "@" + positions + (mode == Mode.SET ? " := " : " ×= ") + value;
    }
}
