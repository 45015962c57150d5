package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.DecoderForward;
import org.circuittracer.transformer.decoder.KeyValueCache;
import org.circuittracer.transformer.generation.GenerationLoop;
import org.circuittracer.transformer.hooks.HookPlan;
import org.circuittracer.transformer.hooks.SiteShapes;

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
 * <p><b>Length</b> and the checks of a request are {@link GenerationLoop}'s, shared with the onnx backend.
 *
 * <p><b>Memory</b>: the cache lives in a sub-manager of the caller's manager for the generation; every pass works in a
 * sub-manager of it closed when the pass is done; only the result is attached to the caller's manager.
 */
final class DjlGeneration implements GenerationLoop.Passes {

    private final Decoder decoder;
    private final List<HookSite> sites;
    private final String model;
    private final List<Hook> hooks;
    private final NDManager generation;
    private final KeyValueCache cache;

    private DjlGeneration(Decoder decoder, List<HookSite> sites, String model, List<Hook> hooks, NDManager generation,
                          int positions) {
        this.decoder = decoder;
        this.sites = sites;
        this.model = model;
        this.hooks = hooks;
        this.generation = generation;
        this.cache = new KeyValueCache(generation, decoder.config().layers(), positions);
    }

    static GenerationResult run(Decoder decoder, List<HookSite> sites, String model, NDManager manager,
                                GenerationRequest request) {
        ModelConfig config = decoder.config();
        int prompt = request.prompt().length();
        int newTokens = Math.min(request.maxNewTokens(), config.maxPositions() - prompt);
        NDManager generation = manager.newSubManager();
        try {
            // positions 0 … T + newTokens − 2 are computed; the last new token is never fed back
            return GenerationLoop.run(manager, config, request, new DjlGeneration(decoder, sites, model,
                    request.hooks(), generation, prompt + newTokens - 1));
        } finally {
            generation.close();
        }
    }

    /** One pass over {@code ids} at the cache's position; the float32 logits of its last position. */
    @Override
    public float[] next(int[] ids, int first) {
        ModelConfig config = decoder.config();
        try (NDManager scratch = generation.newSubManager()) {
            SiteShapes shapes = new SiteShapes(first, ids.length, config.modelWidth(), config.heads(),
                    config.vocabularySize());
            HookPlan plan;
            try {
                plan = HookPlan.prepare(hooks, sites, shapes, scratch, model);
            } catch (CircuitTracerException e) {
                throw first == 0 ? e : GenerationLoop.atStep(e, first);
            }
            NDArray logits = DecoderForward.run(decoder, scratch, ids, plan, cache);
            return logits.get(ids.length - 1).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    @Override
    public void close() {
        generation.close();
    }
}
