package org.circuittracer.backend.onnx;

import java.nio.FloatBuffer;
import java.util.List;
import org.circuittracer.backend.onnx.hooks.HookFeeds;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.transformer.generation.GenerationLoop;

/**
 * The passes of one generation with the export's key/value cache ({@code past_key_values} in, {@code present} out,
 * kept inside ONNX Runtime between passes): the prompt pass, then one single-token pass per new token, each fed the
 * previous pass's presents. Hooks apply on every pass with absolute positions, exactly as in the djl backend (see
 * {@link HookFeeds}); the loop, its checks and the sampler are {@link GenerationLoop}'s, shared with the djl backend.
 */
final class OnnxGeneration implements GenerationLoop.Passes {

    private final OnnxTransformerModel model;
    private final List<Hook> hooks;
    private final String describe;
    private OnnxTransformerModel.Pass previous;

    OnnxGeneration(OnnxTransformerModel model, List<Hook> hooks, String describe) {
        this.model = model;
        this.hooks = hooks;
        this.describe = describe;
    }

    @Override
    public float[] next(int[] ids, int first) {
        OnnxTransformerModel.Pass pass;
        try (HookFeeds feeds = prepare(first, ids.length)) {
            pass = model.run(ids, first, previous, feeds, true);
        }
        close();
        previous = pass;
        return lastRow(pass, ids.length, model.config().vocabularySize());
    }

    private HookFeeds prepare(int first, int count) {
        try {
            return HookFeeds.prepare(hooks, model.sites(), model.shapes(first, count),
                    model.sessions().environment(), model.capabilities(), describe);
        } catch (CircuitTracerException e) {
            throw first == 0 ? e : GenerationLoop.atStep(e, first);
        }
    }

    private static float[] lastRow(OnnxTransformerModel.Pass pass, int positions, int vocabulary) {
        FloatBuffer buffer = pass.output("logits").getFloatBuffer();
        float[] row = new float[vocabulary];
        buffer.position((positions - 1) * vocabulary);
        buffer.get(row);
        return row;
    }

    /** Releases the last pass's outputs (the cache). */
    @Override
    public void close() {
        if (previous != null) {
            previous.close();
            previous = null;
        }
    }
}
