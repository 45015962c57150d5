package org.circuittracer.transformer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.circuittracer.safetensors.SafetensorsWriter;

/**
 * Writes a Llama-style Hugging Face checkpoint ({@code config.json} + {@code model.safetensors}, float32) with random
 * weights, for benchmarks and tests that need a model larger than the fixtures. No tokenizer is written: such a model
 * takes token ids. The weights are uniform with the standard deviation {@code 0.02} (norm gains 1), reproducible from
 * the seed.
 */
public final class SyntheticCheckpoint {

    private SyntheticCheckpoint() {
    }

    /**
     * The dimensions of a synthetic {@code LlamaForCausalLM}.
     *
     * @param layers       {@code num_hidden_layers}
     * @param hidden       {@code hidden_size}
     * @param heads        {@code num_attention_heads}
     * @param kvHeads      {@code num_key_value_heads}
     * @param mlp          {@code intermediate_size}
     * @param vocabulary   {@code vocab_size}
     * @param maxPositions {@code max_position_embeddings}
     * @param seed         seeds the weights
     */
    public record Spec(int layers, int hidden, int heads, int kvHeads, int mlp, int vocabulary, int maxPositions,
                       long seed) {

        public Spec {
            if (layers <= 0 || hidden <= 0 || heads <= 0 || kvHeads <= 0 || mlp <= 0 || vocabulary <= 0
                    || maxPositions <= 0 || hidden % heads != 0 || heads % kvHeads != 0) {
                throw new IllegalArgumentException("bad synthetic model: " + this);
            }
        }

        /** The benchmark's model: 8 layers, width 512, 8 heads / 4 key-value heads, MLP 2048, vocabulary 4096. */
        public static Spec benchmark() {
            return new Spec(8, 512, 8, 4, 2048, 4096, 2048, 1);
        }

        public int headDim() {
            return hidden / heads;
        }

        /** Number of weights (embeddings and unembedding untied, norms included). */
        public long parameters() {
            long d = hidden;
            long attention = d * heads * headDim() * 2 + d * kvHeads * headDim() * 2;
            long perLayer = attention + 3 * d * mlp + 2 * d;
            return layers * perLayer + 2 * d * vocabulary + d;
        }
    }

    /**
     * Writes the checkpoint into {@code directory} (created if needed; existing files of the same names replaced).
     *
     * @return {@code directory}
     */
    public static Path write(Path directory, Spec spec) {
        try {
            Files.createDirectories(directory);
            Files.writeString(directory.resolve("config.json"), config(spec));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the synthetic model into " + directory, e);
        }
        SplittableRandom random = new SplittableRandom(spec.seed());
        int d = spec.hidden();
        int q = spec.heads() * spec.headDim();
        int kv = spec.kvHeads() * spec.headDim();
        SafetensorsWriter writer = new SafetensorsWriter();
        writer.addFloats("model.embed_tokens.weight", shape(spec.vocabulary(), d), random(random, spec.vocabulary(), d));
        for (int layer = 0; layer < spec.layers(); layer++) {
            String p = "model.layers." + layer + ".";
            writer.addFloats(p + "input_layernorm.weight", shape(d), ones(d));
            writer.addFloats(p + "self_attn.q_proj.weight", shape(q, d), random(random, q, d));
            writer.addFloats(p + "self_attn.k_proj.weight", shape(kv, d), random(random, kv, d));
            writer.addFloats(p + "self_attn.v_proj.weight", shape(kv, d), random(random, kv, d));
            writer.addFloats(p + "self_attn.o_proj.weight", shape(d, q), random(random, d, q));
            writer.addFloats(p + "post_attention_layernorm.weight", shape(d), ones(d));
            writer.addFloats(p + "mlp.gate_proj.weight", shape(spec.mlp(), d), random(random, spec.mlp(), d));
            writer.addFloats(p + "mlp.up_proj.weight", shape(spec.mlp(), d), random(random, spec.mlp(), d));
            writer.addFloats(p + "mlp.down_proj.weight", shape(d, spec.mlp()), random(random, d, spec.mlp()));
        }
        writer.addFloats("model.norm.weight", shape(d), ones(d));
        writer.addFloats("lm_head.weight", shape(spec.vocabulary(), d), random(random, spec.vocabulary(), d));
        writer.write(directory.resolve("model.safetensors"));
        return directory;
    }

    private static String config(Spec spec) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architectures", List.of("LlamaForCausalLM"));
        json.put("model_type", "llama");
        json.put("vocab_size", spec.vocabulary());
        json.put("hidden_size", spec.hidden());
        json.put("intermediate_size", spec.mlp());
        json.put("num_hidden_layers", spec.layers());
        json.put("num_attention_heads", spec.heads());
        json.put("num_key_value_heads", spec.kvHeads());
        json.put("head_dim", spec.headDim());
        json.put("hidden_act", "silu");
        json.put("max_position_embeddings", spec.maxPositions());
        json.put("rms_norm_eps", 1e-5);
        json.put("rope_theta", 500000.0);
        json.put("attention_bias", false);
        json.put("mlp_bias", false);
        json.put("tie_word_embeddings", false);
        json.put("torch_dtype", "float32");
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json);
    }

    private static long[] shape(long... dims) {
        return dims;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    /** Uniform on [−a, a] with a = 0.02·√3 (standard deviation 0.02). */
    private static float[] random(SplittableRandom random, int rows, int columns) {
        float[] v = new float[Math.multiplyExact(rows, columns)];
        double a = 0.02 * Math.sqrt(3);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * a);
        }
        return v;
    }
}
