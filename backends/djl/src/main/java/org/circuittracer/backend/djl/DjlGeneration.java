package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.backend.djl.decoder.Decoder;
import org.circuittracer.backend.djl.decoder.DecoderForward;
import org.circuittracer.backend.djl.decoder.KeyValueCache;
import org.circuittracer.backend.djl.generation.Sampler;
import org.circuittracer.backend.djl.hooks.HookPlan;
import org.circuittracer.backend.djl.hooks.SiteShapes;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;

/**
 * One generation with a key/value cache: a prompt pass over the whole prompt that fills the cache, then one
 * incremental pass per new token, each computing the single new position against the cached keys and values.
 *
 * <p><b>Hooks</b> apply on every pass, with absolute positions: the pass that computes positions
 * {@code first … first + n − 1} resolves a hook's {@link org.circuittracer.spi.model.Positions} against the sequence
 * length {@code first + n} (exactly as a forward pass over that prefix would) and touches the resolved positions it
 * computes (see {@link HookPlan}). So the prompt pass applies every hook as {@code forward} does; a step at position
 * {@code t} applies a replace or add only if it selects {@code t}: open-ended slices ({@code Positions.from(k)},
 * {@code all()}) reach every generated position, a slice ending inside the prompt reaches none, and a bounded slice
 * ending later reaches the generated positions before its end. Negative indices count from the newest position, so
 * {@code Positions.at(-1)} touches the last prompt position on the prompt pass and then every generated position.
 * Transforms see each pass's whole value ({@code [1, d]} on a step; {@code [H, 1, t + 1]} for an attention pattern).
 * Since cached positions keep what was computed for them, the result equals recomputing every prefix with the same
 * hooks whenever a hook's resolved positions do not depend on the sequence length (non-negative positions and
 * bounds), e.g. for {@code Positions.from(2)} or {@code Positions.range(0, 3)}. Captures are rejected: a
 * {@link GenerationResult} carries no captured values (run {@code forward} on the generated tokens to read sites).
 *
 * <p><b>Length</b>: generation ends after a stop token (which is included), after {@code maxNewTokens} tokens, or when
 * the sequence reaches the model's maximum positions, whichever comes first; a prompt with no room for one more
 * token is rejected.
 *
 * <p><b>Memory</b>: the cache lives in a sub-manager of the caller's manager for the generation; every pass works in a
 * sub-manager of it closed when the pass is done; only the result is attached to the caller's manager.
 */
final class DjlGeneration {

    private DjlGeneration() {
    }

    /**
     * Checks a request before any work starts.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for token ids outside the vocabulary, a prompt that leaves no room
     *         for a new token, stop tokens outside the vocabulary, or capture hooks
     */
    static void validate(ModelConfig config, GenerationRequest request, String model) {
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
                        + "carries tokens and logits only. Run forward on the generated tokens to read sites, or use "
                        + "a Hook.Transform to observe each step's values.");
            }
        }
    }

    static GenerationResult run(Decoder decoder, List<HookSite> sites, String model, NDManager manager,
                                GenerationRequest request) {
        ModelConfig config = decoder.config();
        int[] prompt = request.prompt().ids();
        int newTokens = Math.min(request.maxNewTokens(), config.maxPositions() - prompt.length);
        int[] tokens = Arrays.copyOf(prompt, prompt.length + newTokens);
        int length = prompt.length;
        Sampler sampler = new Sampler(request.sampling());
        try (NDManager generation = manager.newSubManager()) {
            // positions 0 … T + newTokens − 2 are computed; the last new token is never fed back
            KeyValueCache cache = new KeyValueCache(generation, config.layers(), prompt.length + newTokens - 1);
            List<NDArray> rows = new ArrayList<>(newTokens);
            int[] pass = prompt;
            while (true) {
                NDArray row = pass(decoder, sites, model, generation, request.hooks(), pass, cache);
                rows.add(row);
                int token = sampler.next(row.toFloatArray());
                tokens[length++] = token;
                if (request.stopTokens().contains(token) || length == tokens.length) {
                    break;
                }
                pass = new int[] {token};
            }
            NDArray stepLogits = NDArrays.stack(new NDList(rows));
            stepLogits.attach(manager);
            return new GenerationResult(new TokenSequence(Arrays.copyOf(tokens, length)), stepLogits);
        }
    }

    /** One pass over {@code ids} at the cache's position; the logits of its last position, owned by {@code owner}. */
    private static NDArray pass(Decoder decoder, List<HookSite> sites, String model, NDManager owner, List<Hook> hooks,
                                int[] ids, KeyValueCache cache) {
        ModelConfig config = decoder.config();
        int first = cache.length();
        try (NDManager scratch = owner.newSubManager()) {
            SiteShapes shapes = new SiteShapes(first, ids.length, config.modelWidth(), config.heads(),
                    config.vocabularySize());
            HookPlan plan;
            try {
                plan = HookPlan.prepare(hooks, sites, shapes, scratch, model);
            } catch (CircuitTracerException e) {
                if (first == 0) {
                    throw e;
                }
                throw new CircuitTracerException(e.errorCode(), "At the generation step for position " + first + ": "
                        + e.getMessage() + " On generated positions a replace or add has one row (or, for "
                        + "attn.hook_pattern, one query row over " + (first + 1) + " keys); give values that broadcast "
                        + "to it, or end the hook's positions inside the prompt.", e);
            }
            NDArray logits = DecoderForward.run(decoder, scratch, ids, plan, cache);
            NDArray last = logits.get(ids.length - 1).duplicate();
            last.attach(owner);
            return last;
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
