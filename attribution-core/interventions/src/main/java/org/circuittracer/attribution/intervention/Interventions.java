package org.circuittracer.attribution.intervention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Feature interventions on the replacement model (docs/reference/algorithm.md §7.3-7.4), realised with hooks: see
 * {@link InterventionOptions} for the four modes. Tokens are used as given (pass a graph's {@code tokens} to keep its
 * positions); position 0 (or the model's zeroed positions) has no features in the returned activations.
 */
public final class Interventions {

    /** How many top logits {@link #generate} reports per step by default. */
    public static final int DEFAULT_TOP_K = 10;

    private Interventions() {
    }

    /**
     * One intervened forward pass ({@code feature_intervention}).
     *
     * @param manager owns the returned logits
     * @throws CircuitTracerException INVALID_ARGUMENT for an intervention outside the dictionary or the prompt, or a
     *         constrained range outside the model; MISSING_CAPABILITY when the backend lacks function hooks or the
     *         freezes a mode needs
     */
    public static InterventionResult intervene(NDManager manager, ReplacementModel replacementModel,
                                               TokenSequence tokens, List<Intervention> interventions,
                                               InterventionOptions options) {
        Objects.requireNonNull(options, "options");
        TransformerModel model = replacementModel.model();
        tokens.requireInVocabulary(model.config().vocabularySize());
        InterventionPlan plan = InterventionPlan.of(interventions, replacementModel.dictionary(), tokens.length(), false);
        try (NDManager work = manager.newSubManager()) {
            InterventionPass pass = new InterventionPass(replacementModel, tokens, plan, options, true, work);
            requireCapabilities(model, pass, "interventions");
            pass.recordCleanPass();
            NDArray logits = model.forward(work, tokens, pass.hooks()).logits().toType(DataType.FLOAT32, true);
            logits.attach(manager);
            return new InterventionResult(logits, pass.recorded());
        }
    }

    /** {@link #generate(NDManager, ReplacementModel, TokenSequence, List, InterventionOptions, int, Sampling, int)} with
     * the top {@value #DEFAULT_TOP_K} logits per step. */
    public static SteeredGeneration generate(NDManager manager, ReplacementModel replacementModel, TokenSequence tokens,
                                             List<Intervention> interventions, InterventionOptions options,
                                             int maxNewTokens, Sampling sampling) {
        return generate(manager, replacementModel, tokens, interventions, options, maxNewTokens, sampling, DEFAULT_TOP_K);
    }

    /**
     * Steered generation ({@code feature_intervention_generate}) next to the unsteered generation. The prompt pass is
     * the intervened pass of {@link #intervene} (freezes and constraints included); every later step runs freely on
     * the key/value cache, and only open-ended interventions ({@code Positions.from(k)}) reach generated positions,
     * applied against the live activation of each new position. Both runs stop at the model's stop tokens.
     *
     * @param manager owns the temporary arrays (nothing returned is an array)
     * @param topK    how many logits to report per step (≥ 1)
     */
    public static SteeredGeneration generate(NDManager manager, ReplacementModel replacementModel, TokenSequence tokens,
                                             List<Intervention> interventions, InterventionOptions options,
                                             int maxNewTokens, Sampling sampling, int topK) {
        return generate(manager, replacementModel, tokens, interventions, options, maxNewTokens, sampling, topK,
                new int[0]);
    }

    /**
     * {@link #generate(NDManager, ReplacementModel, TokenSequence, List, InterventionOptions, int, Sampling, int)}
     * that also reports, at every step, the logits of {@code watchTokens} whatever their rank
     * ({@link SteeredGeneration.TopLogits#watchedLogit}).
     *
     * @param watchTokens token ids to report at every step (each in the vocabulary)
     */
    public static SteeredGeneration generate(NDManager manager, ReplacementModel replacementModel, TokenSequence tokens,
                                             List<Intervention> interventions, InterventionOptions options,
                                             int maxNewTokens, Sampling sampling, int topK, int[] watchTokens) {
        Objects.requireNonNull(options, "options");
        int[] watch = watchTokens.clone();
        int vocabulary = replacementModel.model().config().vocabularySize();
        for (int t : watch) {
            if (t < 0 || t >= vocabulary) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Watched token " + t
                        + " is outside the model's vocabulary [0, " + vocabulary + ").");
            }
        }
        Objects.requireNonNull(sampling, "sampling");
        if (topK < 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "top-k must be at least 1, got "
                    + topK + ".");
        }
        TransformerModel model = replacementModel.model();
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.KV_CACHE,
                "steered generation");
        tokens.requireInVocabulary(model.config().vocabularySize());
        InterventionPlan plan = InterventionPlan.of(interventions, replacementModel.dictionary(), tokens.length(), true);
        try (NDManager work = manager.newSubManager()) {
            InterventionPass pass = new InterventionPass(replacementModel, tokens, plan, options, false, work);
            requireCapabilities(model, pass, "steered generation");
            pass.recordCleanPass();
            var stops = model.generationDefaults().stopTokens();
            GenerationResult steered = model.generate(work, new GenerationRequest(tokens, maxNewTokens, sampling,
                    stops, pass.hooks()));
            GenerationResult unsteered = model.generate(work, new GenerationRequest(tokens, maxNewTokens, sampling,
                    stops, List.of()));
            return new SteeredGeneration(run(model, tokens, steered, topK, watch),
                    run(model, tokens, unsteered, topK, watch));
        }
    }

    private static SteeredGeneration.Run run(TransformerModel model, TokenSequence prompt, GenerationResult result,
                                             int topK, int[] watch) {
        int[] all = result.tokens().ids();
        int[] generated = Arrays.copyOfRange(all, prompt.length(), all.length);
        float[][] rows = new float[generated.length][];
        NDArray logits = result.stepLogits().toType(DataType.FLOAT32, false);
        List<SteeredGeneration.TopLogits> steps = new ArrayList<>();
        for (int i = 0; i < generated.length; i++) {
            rows[i] = logits.get(i).toFloatArray();
            float[] row = rows[i];
            int[] top = IntStream.range(0, row.length).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(t -> -row[t]).thenComparingInt(t -> t))
                    .limit(topK).mapToInt(Integer::intValue).toArray();
            float[] values = new float[top.length];
            for (int k = 0; k < top.length; k++) {
                values[k] = row[top[k]];
            }
            float[] watched = new float[watch.length];
            for (int k = 0; k < watch.length; k++) {
                watched[k] = row[watch[k]];
            }
            steps.add(new SteeredGeneration.TopLogits(generated[i], top, values, logSumExp(row), watch, watched));
        }
        return new SteeredGeneration.Run(result.tokens(), model.tokenizer().decode(all, false),
                model.tokenizer().decode(generated, false), steps);
    }

    /** {@code log Σ exp(row)}, shifted by the maximum so that it neither overflows nor underflows. */
    static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        if (!Double.isFinite(max)) {
            return max;
        }
        double sum = 0;
        for (float v : row) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    private static void requireCapabilities(TransformerModel model, InterventionPass pass, String purpose) {
        Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.FUNCTION_HOOKS,
                purpose);
        if (pass.freezesPatterns()) {
            Capability.require("backend", model.backendName(), model.capabilities(),
                    BackendCapability.FREEZE_ATTENTION, purpose + " with frozen attention");
        }
        if (pass.freezesScales()) {
            Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.FREEZE_NORMS,
                    purpose + " with every layer constrained (direct effects)");
        }
    }
}
