package org.circuittracer.transformer.generation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * The token loop of a generation with a key/value cache, the same for every backend: a prompt pass, then one
 * single-token pass per new token, tokens chosen by the {@link Sampler}. Generation ends after a stop token (which is
 * included), after {@code maxNewTokens} tokens, or when the sequence reaches the model's maximum positions, whichever
 * comes first. The backend supplies the passes ({@link Passes}), which keep the cache.
 */
public final class GenerationLoop {

    /** The passes of one generation; closing releases the cache. */
    public interface Passes extends AutoCloseable {

        /**
         * Runs the model on {@code ids} at positions {@code first …} (after the cached ones), applying the hooks.
         *
         * @return the float32 logits of the pass's last position
         */
        float[] next(int[] ids, int first);

        @Override
        void close();
    }

    private GenerationLoop() {
    }

    /**
     * Checks a request before any work starts.
     *
     * @param model        names the model in messages
     * @param capabilities the model's: the message about captures suggests a transform only where there are any
     * @throws CircuitTracerException INVALID_ARGUMENT for token ids outside the vocabulary, a prompt that leaves no
     *         room for a new token, stop tokens outside the vocabulary, or capture hooks
     */
    public static void validate(ModelConfig config, GenerationRequest request, String model,
                                Set<BackendCapability> capabilities) {
        TokenSequence prompt = request.prompt();
        prompt.requireInVocabulary(config.vocabularySize());
        if (prompt.length() >= config.maxPositions()) {
            throw invalid("The prompt has " + prompt.length() + " tokens and " + model + " supports "
                    + config.maxPositions() + " positions, which leaves no room to generate a token. Shorten the "
                    + "prompt to at most " + (config.maxPositions() - 1) + " tokens.");
        }
        for (int stop : request.stopTokens()) {
            if (stop < 0 || stop >= config.vocabularySize()) {
                throw invalid("Stop token " + stop + " is outside the vocabulary [0, " + config.vocabularySize()
                        + ") of " + model + ", so it could never end the generation. Check that it was tokenised "
                        + "for this model.");
            }
        }
        for (Hook hook : request.hooks()) {
            if (hook instanceof Hook.Capture) {
                throw invalid("Hook.Capture at " + hook.site() + " cannot be used in a generation: its result "
                        + "carries tokens and logits only. Run forward on the generated tokens to read sites"
                        + (capabilities.contains(BackendCapability.FUNCTION_HOOKS)
                        ? ", or use a Hook.Transform to observe each step's values." : "."));
            }
        }
    }

    /**
     * Runs the loop; {@code passes} is closed before this returns.
     *
     * @param manager owns the result's step logits
     */
    public static GenerationResult run(NDManager manager, ModelConfig config, GenerationRequest request,
                                       Passes passes) {
        try (passes) {
            int vocabulary = config.vocabularySize();
            int[] prompt = request.prompt().ids();
            int newTokens = Math.min(request.maxNewTokens(), config.maxPositions() - prompt.length);
            int[] tokens = Arrays.copyOf(prompt, prompt.length + newTokens);
            int length = prompt.length;
            Sampler sampler = new Sampler(request.sampling());
            float[] rows = new float[newTokens * vocabulary];
            int steps = 0;
            int[] ids = prompt;
            int first = 0;
            while (true) {
                float[] logits = passes.next(ids, first);
                System.arraycopy(logits, 0, rows, steps * vocabulary, vocabulary);
                steps++;
                int token = sampler.next(logits);
                tokens[length++] = token;
                if (request.stopTokens().contains(token) || length == tokens.length) {
                    break;
                }
                first += ids.length;
                ids = new int[] {token};
            }
            NDArray stepLogits = manager.create(Arrays.copyOf(rows, steps * vocabulary), new Shape(steps, vocabulary));
            return new GenerationResult(new TokenSequence(Arrays.copyOf(tokens, length)), stepLogits);
        }
    }

    /**
     * A hook that cannot be prepared for a step after the prompt pass, with what that step's tensors look like.
     *
     * @param first the step's position
     */
    public static CircuitTracerException atStep(CircuitTracerException e, int first) {
        return new CircuitTracerException(e.errorCode(), "At the generation step for position " + first + ": "
                + e.getMessage() + " On generated positions a replace or add has one row (or, for "
                + "attn.hook_pattern, one query row over " + (first + 1) + " keys); give values that broadcast "
                + "to it, or end the hook's positions inside the prompt.", e);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
