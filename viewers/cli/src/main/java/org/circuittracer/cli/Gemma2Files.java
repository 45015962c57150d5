package org.circuittracer.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.safetensors.SafetensorsWriter;

/**
 * The files of the {@link SyntheticBench.Family#GEMMA2} configurations: a bfloat16 {@code Gemma2ForCausalLM} checkpoint
 * (one shard per layer plus one for the embeddings and final norm, and {@code model.safetensors.index.json}) and
 * per-layer JumpReLU transcoders in the reference layout, GemmaScope-like.
 *
 * <p>Gigabytes are written without holding them: each tensor is generated into a direct buffer that is reused for the
 * same tensor of the next layer, and the values come from a {@link SplittableRandom} per chunk of 2<sup>20</sup>
 * elements, seeded from the configuration's seed, the tensor's name and the chunk's index, so that the chunks can be
 * filled in parallel and the files are the same for any number of threads. Weights are uniform (16 random bits per
 * value) with the stated standard deviation, rounded to bfloat16.
 */
final class Gemma2Files {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int CHUNK = 1 << 20;
    private static final double MODEL_STD = 0.02;

    private Gemma2Files() {
    }

    /** Direct buffers reused across layers, one per tensor role (direct memory is freed only by the collector). */
    private static final class Buffers {
        private final Map<String, ByteBuffer> byRole = new HashMap<>();

        ByteBuffer get(String role, long bytes) {
            ByteBuffer b = byRole.get(role);
            if (b == null || b.capacity() < bytes) {
                b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
                byRole.put(role, b);
            }
            return b.clear().limit(Math.toIntExact(bytes)).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** config.json, tokenizer files, sharded bf16 weights; returns {@code directory}. */
    static Path writeModel(Path directory, SyntheticBench.Spec spec, long seed) throws IOException {
        Files.createDirectories(directory);
        int maxPositions = Math.max(8192, spec.calibrationLength());
        ObjectNode config = SyntheticBench.configJson(spec, "Gemma2ForCausalLM", "gemma2");
        config.put("hidden_activation", "gelu_pytorch_tanh");
        config.put("hidden_act", "gelu_pytorch_tanh");
        config.put("max_position_embeddings", maxPositions);
        config.put("rms_norm_eps", 1e-6);
        config.put("rope_theta", 10000.0);
        config.put("attention_bias", false);
        config.put("query_pre_attn_scalar", spec.headDim());
        config.put("sliding_window", 4096);
        config.put("final_logit_softcapping", 30.0);
        config.put("attn_logit_softcapping", 50.0);
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        config.put("pad_token_id", 0);
        config.put("tie_word_embeddings", true);
        config.put("torch_dtype", "bfloat16");
        Files.writeString(directory.resolve("config.json"), JSON.writeValueAsString(config));
        SyntheticBench.writeTokenizer(directory, spec.vocabulary(), maxPositions);

        int d = spec.hidden();
        long q = (long) spec.heads() * spec.headDim();
        long kv = (long) spec.kvHeads() * spec.headDim();
        long m = spec.mlp();
        int shards = spec.layers() + 1;
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        Buffers buffers = new Buffers();
        for (int shard = 0; shard < shards; shard++) {
            String file = String.format("model-%05d-of-%05d.safetensors", shard + 1, shards);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            Map<String, long[]> shapes = new LinkedHashMap<>();
            if (shard == 0) {
                shapes.put("model.embed_tokens.weight", new long[] {spec.vocabulary(), d});
                shapes.put("model.norm.weight", new long[] {d});
            } else {
                String p = "model.layers." + (shard - 1) + ".";
                for (String norm : new String[] {"input_layernorm", "post_attention_layernorm",
                        "pre_feedforward_layernorm", "post_feedforward_layernorm"}) {
                    shapes.put(p + norm + ".weight", new long[] {d});
                }
                shapes.put(p + "self_attn.q_proj.weight", new long[] {q, d});
                shapes.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
                shapes.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
                shapes.put(p + "self_attn.o_proj.weight", new long[] {d, q});
                shapes.put(p + "mlp.gate_proj.weight", new long[] {m, d});
                shapes.put(p + "mlp.up_proj.weight", new long[] {m, d});
                shapes.put(p + "mlp.down_proj.weight", new long[] {d, m});
            }
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                String name = e.getKey();
                long n = numel(e.getValue());
                ByteBuffer data = buffers.get(role(name), 2 * n);
                if (name.endsWith("norm.weight")) {
                    // Gemma's gain is 1 + w: zeros give unit gains
                    while (data.hasRemaining()) {
                        data.put((byte) 0);
                    }
                    data.flip();
                } else {
                    fillUniformBf16(data, n, MODEL_STD, tensorSeed(seed, name));
                }
                w.add(name, DType.BF16, e.getValue(), data);
                weightMap.put(name, file);
                total += 2 * n;
            }
            w.write(directory.resolve(file));
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Files.writeString(directory.resolve("model.safetensors.index.json"), JSON.writeValueAsString(index));
        return directory;
    }

    /**
     * {@code layer_i.safetensors}: {@code W_enc [F, d]} bf16 uniform with standard deviation {@code 1/√d},
     * {@code b_enc [F]} float32 uniform on ±0.1, {@code W_dec [F, d]} bf16 with {@code 0.1/√d}, {@code b_dec} zero
     * and the calibrated {@code activation_function.threshold [F]} (float32); and {@code config.yaml}.
     *
     * <p>Calibration: for every feature the pre-activations {@code W_enc[f]·x_t + b_enc[f]} over the calibration
     * positions (with the bf16-rounded encoder, as the dictionary reads it) are ranked and the threshold is the
     * midpoint between the {@code k}-th and {@code (k+1)}-th largest, so that the feature fires at exactly {@code k}
     * of them.
     */
    static void writeTranscoders(Path directory, SyntheticBench.Spec spec, long seed, float[][] inputs)
            throws IOException {
        Files.createDirectories(directory);
        int d = spec.hidden();
        int f = spec.features();
        int c = spec.calibrationLength();
        int firing = spec.firingPositions();
        Buffers buffers = new Buffers();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int layer = 0; layer < spec.layers(); layer++) {
                String p = "layer_" + layer + ".";
                long n = (long) f * d;
                ByteBuffer enc = buffers.get("W_enc", 2 * n);
                fillUniformBf16(enc, n, 1 / Math.sqrt(d), tensorSeed(seed, p + "W_enc"));
                ByteBuffer dec = buffers.get("W_dec", 2 * n);
                fillUniformBf16(dec, n, 0.1 / Math.sqrt(d), tensorSeed(seed, p + "W_dec"));
                float[] bias = new float[f];
                SplittableRandom biasRandom = new SplittableRandom(tensorSeed(seed, p + "b_enc"));
                for (int i = 0; i < f; i++) {
                    bias[i] = (float) ((biasRandom.nextDouble() * 2 - 1) * 0.1);
                }
                float[] pre;
                try (NDManager scope = manager.newSubManager()) {
                    ByteBuffer widened = buffers.get("W_enc f32", 4 * n);
                    widen(enc, widened, n);
                    NDArray encoder = scope.create(widened, new Shape(f, d), DataType.FLOAT32);
                    NDArray x = scope.create(inputs[layer], new Shape(c, d));
                    pre = encoder.matMul(x.transpose()).toFloatArray(); // [F, C]
                }
                float[] threshold = new float[f];
                float[] row = new float[c];
                for (int feature = 0; feature < f; feature++) {
                    for (int t = 0; t < c; t++) {
                        row[t] = pre[feature * c + t] + bias[feature];
                    }
                    java.util.Arrays.sort(row);
                    // fires (pre + b > θ) at exactly the `firing` largest positions
                    threshold[feature] = (row[c - firing] + row[c - firing - 1]) / 2;
                }
                SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
                w.add("W_enc", DType.BF16, new long[] {f, d}, enc);
                w.add("W_dec", DType.BF16, new long[] {f, d}, dec);
                w.addFloats("b_enc", DType.F32, new long[] {f}, bias);
                w.addFloats("b_dec", DType.F32, new long[] {d}, new float[d]);
                w.addFloats("activation_function.threshold", DType.F32, new long[] {f}, threshold);
                w.write(directory.resolve("layer_" + layer + ".safetensors"));
            }
        }
        // no activation line: the thresholds select JumpReLU, as for GemmaScope sets in the reference format
        String yaml = "model_kind: transcoder_set\n"
                + "model_name: circuit-tracer/synthetic-" + spec.name() + "\n"
                + "feature_input_hook: ln2.hook_normalized\n"
                + "feature_output_hook: hook_mlp_out\n";
        Files.writeString(directory.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
    }

    /**
     * Fills {@code n} bf16 values uniform on {@code ±std·√3} into {@code out} (position 0, limit {@code 2n}), chunk
     * by chunk in parallel; chunk {@code i} is drawn from its own stream, so the result does not depend on threads.
     */
    static void fillUniformBf16(ByteBuffer out, long n, double std, long seed) {
        double a = std * Math.sqrt(3);
        // the value of each 16-bit draw, computed once: generating is then a table look-up per value
        short[] table = new short[1 << 16];
        for (int u = 0; u < table.length; u++) {
            table[u] = HalfFloats.floatToBf16((float) (((u + 0.5) / 32768.0 - 1) * a));
        }
        int chunks = Math.toIntExact((n + CHUNK - 1) / CHUNK);
        IntStream.range(0, chunks).parallel().forEach(chunk -> {
            SplittableRandom random = new SplittableRandom(mix(seed + 0x9E3779B97F4A7C15L * (chunk + 1)));
            long first = (long) chunk * CHUNK;
            int count = (int) Math.min(CHUNK, n - first);
            short[] values = new short[count];
            int whole = count & ~3;
            for (int i = 0; i < whole; i += 4) {
                long bits = random.nextLong();
                values[i] = table[(int) bits & 0xFFFF];
                values[i + 1] = table[(int) (bits >>> 16) & 0xFFFF];
                values[i + 2] = table[(int) (bits >>> 32) & 0xFFFF];
                values[i + 3] = table[(int) (bits >>> 48) & 0xFFFF];
            }
            if (whole < count) {
                long bits = random.nextLong();
                for (int j = 0; whole + j < count; j++) {
                    values[whole + j] = table[(int) (bits >>> (16 * j)) & 0xFFFF];
                }
            }
            out.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(Math.toIntExact(2 * first)).asShortBuffer()
                    .put(values);
        });
        out.position(0).limit(Math.toIntExact(2 * n));
    }

    /** bf16 {@code src} to float32 {@code dst} ({@code n} values). */
    private static void widen(ByteBuffer src, ByteBuffer dst, long n) {
        java.nio.ShortBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        java.nio.IntBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        short[] s = new short[CHUNK];
        int[] v = new int[CHUNK];
        for (int off = 0; off < n; off += CHUNK) {
            int k = (int) Math.min(CHUNK, n - off);
            in.get(off, s, 0, k);
            for (int i = 0; i < k; i++) {
                v[i] = s[i] << 16;
            }
            out.put(off, v, 0, k);
        }
    }

    /** The tensor's own seed: the configuration's seed mixed with the name's characters. */
    static long tensorSeed(long seed, String name) {
        long h = mix(seed);
        for (int i = 0; i < name.length(); i++) {
            h = mix(h ^ name.charAt(i));
        }
        return h;
    }

    /** A 64-bit finaliser (SplitMix64's). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The buffer role of a tensor: its name without the layer prefix. */
    private static String role(String name) {
        return name.replaceFirst("^model\\.layers\\.\\d+\\.", "");
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
