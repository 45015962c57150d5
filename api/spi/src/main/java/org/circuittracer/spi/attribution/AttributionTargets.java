package org.circuittracer.spi.attribution;

import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.osgi.annotation.versioning.ProviderType;

/** What the graph explains: the four target forms of docs/reference/algorithm.md §3.7. */
@ProviderType
public sealed interface AttributionTargets {

    /** The most probable next tokens: at most {@code maxLogits}, stopping once their probability reaches {@code desiredProbability}. */
    record Salient(int maxLogits, double desiredProbability) implements AttributionTargets {
        public Salient {
            if (maxLogits < 1) {
                throw invalid("max-n-logits must be >= 1, got " + maxLogits);
            }
            if (!(desiredProbability > 0 && desiredProbability <= 1)) {
                throw invalid("desired-logit-prob must be in (0, 1], got " + desiredProbability);
            }
        }

        /** The reference's defaults: 10 logits, 0.95 probability. */
        public static Salient defaults() {
            return new Salient(10, 0.95);
        }
    }

    /** Explicit token ids (duplicates allowed, order kept), each weighted by its probability. */
    record TokenIds(List<Integer> ids) implements AttributionTargets {
        public TokenIds {
            ids = List.copyOf(ids);
            if (ids.isEmpty()) {
                throw invalid("give at least one target token id");
            }
        }
    }

    /** Token strings, each of which must encode to exactly one token. */
    record TokenStrings(List<String> tokens) implements AttributionTargets {
        public TokenStrings {
            tokens = List.copyOf(tokens);
            if (tokens.isEmpty()) {
                throw invalid("give at least one target token");
            }
        }
    }

    /** Custom linear targets at the final normalised residual, used verbatim (no demeaning). */
    record Custom(List<CustomTarget> targets) implements AttributionTargets {
        public Custom {
            targets = List.copyOf(targets);
            if (targets.isEmpty()) {
                throw invalid("give at least one custom target");
            }
        }
    }

    /**
     * One custom target: the scalar {@code ⟨direction, z⟩} at the last position.
     *
     * @param label     its label in the graph
     * @param weight    its weight for influence computations
     * @param direction {@code [d]} the direction
     */
    record CustomTarget(String label, float weight, float[] direction) {
        public CustomTarget {
            Objects.requireNonNull(label, "label");
            if (!Float.isFinite(weight)) {
                throw invalid("custom target '" + label + "' has a non-finite weight");
            }
            direction = direction.clone();
        }

        @Override
        public float[] direction() {
            return direction.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CustomTarget that && label.equals(that.label)
                    && Float.compare(weight, that.weight) == 0 && java.util.Arrays.equals(direction, that.direction);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * label.hashCode() + Float.hashCode(weight)) + java.util.Arrays.hashCode(direction);
        }

        @Override
        public String toString() {
            return "CustomTarget[label=" + label + ", weight=" + weight + ", direction=" + direction.length
                    + " values]";
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Invalid attribution targets: " + message + ".");
    }
}
