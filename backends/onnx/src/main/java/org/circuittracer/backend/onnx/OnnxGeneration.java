package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.circuittracer.backend.djl.generation.Sampler;
import org.circuittracer.backend.onnx.hooks.HookFeeds;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * One generation with the export's key/value cache ({@code past_key_values} in, {@code present} out, kept inside ONNX
 * Runtime between passes): a prompt pass, then one single-token pass per new token. Hooks apply on every pass with
 * absolute positions, exactly as in the djl backend (see {@link HookFeeds}); captures are rejected; generation ends
 * after a stop token (included), {@code maxNewTokens} tokens, or at the model's maximum positions. Tokens are chosen
 * by the djl backend's {@link Sampler}, so both backends choose alike from equal logits.
 */
final class OnnxGeneration {

    private final OnnxTransformerModel model;
    private final String describe;

    OnnxGeneration(OnnxTransformerModel model, String describe) {
        this.model = model;
        this.describe = describe;
    }

    GenerationResult run(NDManager manager, GenerationRequest request) {
        ModelConfig config = model.config();
        validate(config, request);
        int[] prompt = request.prompt().ids();
        int newTokens = Math.min(request.maxNewTokens(), config.maxPositions() - prompt.length);
        int[] tokens = Arrays.copyOf(prompt, prompt.length + newTokens);
        int length = prompt.length;
        Sampler sampler = new Sampler(request.sampling());
        float[] rows = new float[newTokens * config.vocabularySize()];
        int steps = 0;
        int[] ids = prompt;
        int first = 0;
        OnnxTransformerModel.Pass previous = null;
        try {
            while (true) {
                OnnxTransformerModel.Pass pass;
                try (HookFeeds feeds = prepare(request, first, ids.length)) {
                    pass = model.run(ids, first, previous, feeds, true);
                }
                if (previous != null) {
                    previous.close();
                }
                previous = pass;
                float[] logits = lastRow(pass, ids.length, config.vocabularySize());
                System.arraycopy(logits, 0, rows, steps * config.vocabularySize(), logits.length);
                steps++;
                int token = sampler.next(logits);
                tokens[length++] = token;
                if (request.stopTokens().contains(token) || length == tokens.length) {
                    break;
                }
                first += ids.length;
                ids = new int[] {token};
            }
        } finally {
            if (previous != null) {
                previous.close();
            }
        }
        NDArray stepLogits = manager.create(Arrays.copyOf(rows, steps * config.vocabularySize()),
                new Shape(steps, config.vocabularySize()));
        return new GenerationResult(new TokenSequence(Arrays.copyOf(tokens, length)), stepLogits);
    }

    private HookFeeds prepare(GenerationRequest request, int first, int count) {
        try {
            return HookFeeds.prepare(request.hooks(), model.sites(), model.shapes(first, count),
                    model.sessions().environment(), model.capabilities(), describe);
        } catch (CircuitTracerException e) {
            if (first == 0) {
                throw e;
            }
            throw new CircuitTracerException(e.errorCode(), "At the generation step for position " + first + ": "
                    + e.getMessage() + " On generated positions a replace or add has one row (or, for "
                    + "attn.hook_pattern, one query row over " + (first + 1) + " keys); give values that broadcast "
                    + "to it, or end the hook's positions inside the prompt.", e);
        }
    }

    private static float[] lastRow(OnnxTransformerModel.Pass pass, int positions, int vocabulary) {
        var buffer = pass.output("logits").getFloatBuffer();
        float[] row = new float[vocabulary];
        buffer.position((positions - 1) * vocabulary);
        buffer.get(row);
        return row;
    }

    private void validate(ModelConfig config, GenerationRequest request) {
        TokenSequence prompt = request.prompt();
        prompt.requireInVocabulary(config.vocabularySize());
        if (prompt.length() >= config.maxPositions()) {
            throw invalid("The prompt has " + prompt.length() + " tokens and " + describe + " supports "
                    + config.maxPositions() + " positions, which leaves no room to generate a token. Shorten the "
                    + "prompt to at most " + (config.maxPositions() - 1) + " tokens.");
        }
        for (int stop : request.stopTokens()) {
            if (stop < 0 || stop >= config.vocabularySize()) {
                throw invalid("Stop token " + stop + " is outside the vocabulary [0, " + config.vocabularySize()
                        + ") of " + describe + ", so it could never end the generation. Check that it was tokenised "
                        + "for this model.");
            }
        }
        for (Hook hook : request.hooks()) {
            if (hook instanceof Hook.Capture) {
                throw invalid("Hook.Capture at " + hook.site() + " cannot be used in a generation: its result "
                        + "carries tokens and logits only. Run forward on the generated tokens to read sites.");
            }
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
