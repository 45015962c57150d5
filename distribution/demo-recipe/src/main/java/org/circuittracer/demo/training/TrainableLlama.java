package org.circuittracer.demo.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;

/**
 * The demo model as trainable DJL arrays: the same computation as a Hugging Face {@code LlamaForCausalLM}
 * (the DJL backend's loader is checked against it), written with plain differentiable array operations so that
 * autograd gives the gradients. Parameters use Hugging Face names and layouts ({@code nn.Linear} weights are
 * {@code [out, in]}).
 */
public final class TrainableLlama implements AutoCloseable {

    private final LlamaShape shape;
    private final NDManager manager;
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();

    private TrainableLlama(LlamaShape shape, NDManager manager) {
        this.shape = shape;
        this.manager = manager;
    }

    /** Fresh weights: normal(0, 0.02), output projections scaled by 1/√(2·layers), norms at 1. */
    public static TrainableLlama initialise(LlamaShape shape, NDManager manager, long seed) {
        TrainableLlama m = new TrainableLlama(shape, manager);
        Random random = new Random(seed);
        int d = shape.hidden();
        float residualStd = (float) (0.02 / Math.sqrt(2.0 * shape.layers()));
        m.normal("model.embed_tokens.weight", random, 0.02f, shape.vocabularySize(), d);
        for (int l = 0; l < shape.layers(); l++) {
            String p = "model.layers." + l + ".";
            m.ones(p + "input_layernorm.weight", d);
            m.normal(p + "self_attn.q_proj.weight", random, 0.02f, d, d);
            m.normal(p + "self_attn.k_proj.weight", random, 0.02f, d, d);
            m.normal(p + "self_attn.v_proj.weight", random, 0.02f, d, d);
            m.normal(p + "self_attn.o_proj.weight", random, residualStd, d, d);
            m.ones(p + "post_attention_layernorm.weight", d);
            m.normal(p + "mlp.gate_proj.weight", random, 0.02f, shape.mlpWidth(), d);
            m.normal(p + "mlp.up_proj.weight", random, 0.02f, shape.mlpWidth(), d);
            m.normal(p + "mlp.down_proj.weight", random, residualStd, d, shape.mlpWidth());
        }
        m.ones("model.norm.weight", d);
        m.normal("lm_head.weight", random, 0.02f, shape.vocabularySize(), d);
        return m;
    }

    /** The weights of a saved checkpoint (any float dtype, widened to float32). */
    public static TrainableLlama load(LlamaShape shape, NDManager manager, Path modelSafetensors) {
        TrainableLlama m = new TrainableLlama(shape, manager);
        try (SafetensorsFile file = SafetensorsFile.open(modelSafetensors)) {
            for (String name : file.names()) {
                float[] values = file.readFloats(name);
                m.parameters.put(name, manager.create(values, new Shape(file.info(name).shape())));
            }
        }
        return m;
    }

    public LlamaShape shape() {
        return shape;
    }

    /** The parameters, in a fixed order. */
    public Map<String, NDArray> parameters() {
        return parameters;
    }

    private void normal(String name, Random random, float std, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        parameters.put(name, manager.create(v, new Shape(rows, cols)));
    }

    private void ones(String name, int n) {
        parameters.put(name, manager.ones(new Shape(n)));
    }

    private NDArray p(String name) {
        return parameters.get(name);
    }

    /**
     * Logits {@code [B, T, V]} for token ids {@code [B, T]} (int64). With gradients recorded when called inside a
     * gradient collector.
     */
    public NDArray logits(NDArray ids) {
        long batch = ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        int d = shape.hidden();
        int heads = shape.heads();
        int hd = shape.headDim();
        NDManager local = ids.getManager();
        NDArray x = ids.oneHot(shape.vocabularySize()).toType(DataType.FLOAT32, false)
                .matMul(p("model.embed_tokens.weight"));
        NDArray[] rope = rotary(local, t);
        NDArray mask = causalMask(local, t);
        for (int l = 0; l < shape.layers(); l++) {
            String pre = "model.layers." + l + ".";
            NDArray h = rmsNorm(x, p(pre + "input_layernorm.weight"));
            NDArray q = heads(linear(h, p(pre + "self_attn.q_proj.weight")), batch, t, heads, hd);
            NDArray k = heads(linear(h, p(pre + "self_attn.k_proj.weight")), batch, t, heads, hd);
            NDArray v = heads(linear(h, p(pre + "self_attn.v_proj.weight")), batch, t, heads, hd);
            q = applyRotary(q, rope[0], rope[1]);
            k = applyRotary(k, rope[0], rope[1]);
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).div((float) Math.sqrt(hd)).add(mask);
            NDArray z = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(batch, t, d);
            x = x.add(linear(z, p(pre + "self_attn.o_proj.weight")));
            NDArray m = rmsNorm(x, p(pre + "post_attention_layernorm.weight"));
            NDArray gate = linear(m, p(pre + "mlp.gate_proj.weight"));
            NDArray up = linear(m, p(pre + "mlp.up_proj.weight"));
            x = x.add(linear(gate.mul(Activation.sigmoid(gate)).mul(up), p(pre + "mlp.down_proj.weight")));
        }
        return linear(rmsNorm(x, p("model.norm.weight")), p("lm_head.weight"));
    }

    /** Mean next-token cross-entropy over positions whose target is not padding. */
    public NDArray loss(NDArray inputs, NDArray targets, NDArray targetMask) {
        NDArray logp = logits(inputs).logSoftmax(-1);
        NDArray picked = logp.mul(targets.oneHot(shape.vocabularySize()).toType(DataType.FLOAT32, false))
                .sum(new int[] {-1});
        return picked.mul(targetMask).sum().neg().div(targetMask.sum());
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return x.matMul(weight.transpose());
    }

    private NDArray rmsNorm(NDArray x, NDArray gain) {
        NDArray inv = x.square().mean(new int[] {-1}, true).add(shape.rmsNormEps()).pow(-0.5);
        return x.mul(inv).mul(gain);
    }

    private static NDArray heads(NDArray x, long batch, int t, int heads, int hd) {
        return x.reshape(batch, t, heads, hd).transpose(0, 2, 1, 3);
    }

    /** cos and sin {@code [T, hd]} in the Hugging Face layout (frequencies repeated over both halves). */
    private NDArray[] rotary(NDManager local, int t) {
        int hd = shape.headDim();
        float[] cos = new float[t * hd];
        float[] sin = new float[t * hd];
        for (int pos = 0; pos < t; pos++) {
            for (int i = 0; i < hd / 2; i++) {
                float invFreq = (float) (1.0 / Math.pow(shape.ropeTheta(), (2.0 * i) / hd));
                float angle = pos * invFreq;
                cos[pos * hd + i] = cos[pos * hd + i + hd / 2] = (float) Math.cos(angle);
                sin[pos * hd + i] = sin[pos * hd + i + hd / 2] = (float) Math.sin(angle);
            }
        }
        return new NDArray[] {local.create(cos, new Shape(t, hd)), local.create(sin, new Shape(t, hd))};
    }

    private NDArray applyRotary(NDArray x, NDArray cos, NDArray sin) {
        int half = shape.headDim() / 2;
        NDList parts = x.split(new long[] {half}, 3);
        NDArray rotated = NDArrays.concat(new NDList(parts.get(1).neg(), parts.get(0)), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private static NDArray causalMask(NDManager local, int t) {
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                m[i * t + j] = -1e9f;
            }
        }
        return local.create(m, new Shape(t, t));
    }

    /** Writes {@code model.safetensors} with every parameter stored as {@code dtype}. */
    public void save(Path file, DType dtype) {
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            writer.addFloats(e.getKey(), dtype, e.getValue().getShape().getShape(), e.getValue().toFloatArray());
        }
        writer.write(file);
    }

    /** The parameters as a list, for the optimiser. */
    public List<NDArray> parameterList() {
        return new ArrayList<>(parameters.values());
    }

    @Override
    public void close() {
        parameters.values().forEach(NDArray::close);
    }
}
