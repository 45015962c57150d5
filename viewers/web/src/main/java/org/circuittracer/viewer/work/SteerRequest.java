package org.circuittracer.viewer.work;

import java.util.List;
import java.util.Objects;
import org.circuittracer.attribution.intervention.Intervention;
import org.circuittracer.attribution.intervention.InterventionOptions;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.viewer.ViewerErrors;

/**
 * A steering run: the prompt, the interventions, and how to generate.
 *
 * @param tokens        the graph's prompt token ids (positions as in the graph)
 * @param interventions what to set or scale
 * @param options       the intervention mode (iterative patching by default)
 * @param maxNewTokens  tokens to generate (1 to 256)
 * @param sampling      how to choose them
 * @param topK          candidates reported per step
 * @param target        the graph's target logit, whose change is reported exactly whatever its rank; or null
 */
public record SteerRequest(int[] tokens, List<Intervention> interventions, InterventionOptions options,
                           int maxNewTokens, Sampling sampling, int topK, Target target) {

    /**
     * The graph's target logit node.
     *
     * @param vocabIndex its {@code feature}: a token id, or past the vocabulary for a custom target (a logit
     *                   difference)
     * @param label      its token text as the node's {@code clerp} quotes it ({@code A − B} for a difference)
     */
    public record Target(long vocabIndex, String label) {
    }

    /** Without a target. */
    public SteerRequest(int[] tokens, List<Intervention> interventions, InterventionOptions options,
                        int maxNewTokens, Sampling sampling, int topK) {
        this(tokens, interventions, options, maxNewTokens, sampling, topK, null);
    }

    public static final int MAX_NEW_TOKENS = 256;

    public SteerRequest {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(sampling, "sampling");
        tokens = tokens.clone();
        interventions = List.copyOf(interventions);
        if (tokens.length == 0) {
            throw ViewerErrors.badRequest("The prompt has no tokens.");
        }
        if (interventions.isEmpty()) {
            throw ViewerErrors.badRequest("Give at least one intervention: pin feature nodes or supernodes and choose "
                    + "a value for them.");
        }
        if (maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS) {
            throw ViewerErrors.badRequest("maxNewTokens must be in [1, " + MAX_NEW_TOKENS + "], got " + maxNewTokens
                    + ".");
        }
        if (topK < 1 || topK > 50) {
            throw ViewerErrors.badRequest("topK must be in [1, 50], got " + topK + ".");
        }
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
