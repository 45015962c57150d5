package org.circuittracer.onnx.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.transformer.architecture.Architecture;
import org.circuittracer.transformer.architecture.ArchitectureConfig;
import org.circuittracer.transformer.architecture.Architectures;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.Attention;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.Linear;
import org.circuittracer.transformer.decoder.Mlp;
import org.circuittracer.transformer.decoder.NormWeights;
import org.circuittracer.transformer.decoder.RotaryEmbedding;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;

/**
 * Exports a Hugging Face model directory of one of the djl backend's architectures (GPT-2, Llama, Gemma 2, Qwen 3, Gemma 3) to
 * ONNX in the layout Hugging Face Optimum writes for decoder-only models with a key/value cache:
 *
 * <ul>
 *   <li>inputs {@code input_ids [batch, sequence]} (int64), {@code attention_mask [batch, past + sequence]} (int64),
 *       {@code position_ids [batch, sequence]} (int64), {@code past_key_values.L.key} and {@code .value}
 *       {@code [batch, KV, past, h]} (float32);</li>
 *   <li>outputs {@code logits [batch, sequence, V]} and {@code present.L.key}/{@code .value}
 *       {@code [batch, KV, past + sequence, h]} (keys after any norm and the rotation);</li>
 *   <li>{@code config.json}, {@code tokenizer.json} and the other small files copied beside {@code model.onnx}.</li>
 * </ul>
 *
 * The graph is read from the same {@link Decoder} the djl backend runs, so both compute the same function. Nodes are
 * named like {@code torch.onnx} names modules ({@code /model/layers.0/mlp/down_proj/MatMul}), and norms are written
 * out as elementary operations with the scale as its own node ({@code .../post_attention_layernorm/Sqrt}): that is
 * what the backend's site maps ({@code sitemaps/*.json}) find hook sites by. Weights are float32, inline, or in
 * {@code model.onnx_data} beside the model when {@link Options#externalData()} (needed above 2 GB).
 */
public final class OnnxExporter {

    /** ONNX IR version written (ONNX 1.12). */
    static final int IR_VERSION = 8;
    /** The model's {@code producer_version}: this build's version (version.properties, filtered by Maven). */
    static final String PRODUCER_VERSION = producerVersion();
    /** Default-domain operator set written. */
    static final int OPSET = 17;
    /** The file holding the weights with {@link Options#externalData()}. */
    public static final String EXTERNAL_DATA = "model.onnx_data";
    private static final List<String> COPIED = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");

    /**
     * How to export.
     *
     * @param externalData write the weights into {@value #EXTERNAL_DATA} instead of inline (as Optimum does for
     *                     models over 2 GB)
     */
    public record Options(boolean externalData) {
        public static Options defaults() {
            return new Options(false);
        }
    }

    private OnnxExporter() {
    }

    /**
     * Exports the model in {@code source} into {@code target} (created if absent).
     *
     * @param manager owns the weights while exporting (an NDManager of the PyTorch engine)
     * @return the written {@code model.onnx}
     * @throws CircuitTracerException FILE_NOT_FOUND, MALFORMED_FILE or UNSUPPORTED_ARCHITECTURE for the source,
     *         INVALID_ARGUMENT when {@code target} is the source
     */
    public static Path export(Path source, Path target, Options options, NDManager manager) {
        Objects.requireNonNull(options, "options");
        Path config = source.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "No config.json in " + source
                    + ". Give a Hugging Face model directory (config.json, model.safetensors, tokenizer.json).");
        }
        if (source.toAbsolutePath().normalize().equals(target.toAbsolutePath().normalize())) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Export into another directory than "
                    + "the source model's (" + source + ").");
        }
        JsonConfig json = JsonConfig.read(config);
        Architecture architecture = Architectures.require(json);
        ArchitectureConfig parsed = architecture.read(json);
        String name = source.toAbsolutePath().normalize().getFileName().toString();
        try (NDManager weights = manager.newSubManager();
             WeightReader reader = WeightReader.open(source, weights, Precision.FLOAT32, architecture.name())) {
            Decoder decoder = parsed.load(reader, name);
            ModelProto model = new Translation(decoder, architecture.name()).model();
            Files.createDirectories(target);
            Path onnx = target.resolve("model.onnx");
            write(model, onnx, options);
            for (String file : COPIED) {
                if (Files.isRegularFile(source.resolve(file))) {
                    Files.copy(source.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return onnx;
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write the ONNX model into "
                    + target + ": " + e.getMessage(), e);
        }
    }

    private static void write(ModelProto model, Path onnx, Options options) throws IOException {
        if (!options.externalData()) {
            try (OutputStream out = Files.newOutputStream(onnx)) {
                model.writeTo(out);
            }
            return;
        }
        GraphProto.Builder graph = model.getGraph().toBuilder();
        Path data = onnx.resolveSibling(EXTERNAL_DATA);
        try (OutputStream out = Files.newOutputStream(data)) {
            long offset = 0;
            for (int i = 0; i < graph.getInitializerCount(); i++) {
                TensorProto tensor = graph.getInitializer(i);
                ByteString raw = tensor.getRawData();
                if (tensor.getDataType() != TensorProto.DataType.FLOAT_VALUE || raw.size() < 1024) {
                    continue; // small constants stay inline
                }
                raw.writeTo(out);
                graph.setInitializer(i, tensor.toBuilder().clearRawData()
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", EXTERNAL_DATA))
                        .addExternalData(entry("offset", Long.toString(offset)))
                        .addExternalData(entry("length", Integer.toString(raw.size()))));
                offset += raw.size();
            }
        }
        try (OutputStream out = Files.newOutputStream(onnx)) {
            model.toBuilder().setGraph(graph).build().writeTo(out);
        }
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** The graph of one decoder. */
    private static final class Translation {

        private final Decoder decoder;
        private final String architecture;
        private final Naming naming;
        private final GraphBuilder g = new GraphBuilder("decoder");
        private final Map<RotaryEmbedding, String[]> rotations = new IdentityHashMap<>();
        private final Map<Integer, String> masks = new java.util.HashMap<>();
        private String positionIds;

        Translation(Decoder decoder, String architecture) {
            this.decoder = decoder;
            this.architecture = architecture;
            this.naming = Naming.of(architecture);
        }

        ModelProto model() {
            ModelConfig c = decoder.config();
            g.input("input_ids", TensorProto.DataType.INT64, "batch_size", "sequence_length");
            g.input("attention_mask", TensorProto.DataType.INT64, "batch_size", "total_sequence_length");
            g.input("position_ids", TensorProto.DataType.INT64, "batch_size", "sequence_length");
            for (int layer = 0; layer < c.layers(); layer++) {
                for (String part : List.of("key", "value")) {
                    g.input("past_key_values." + layer + "." + part, TensorProto.DataType.FLOAT, "batch_size",
                            c.keyValueHeads(), "past_sequence_length", c.headWidth());
                }
            }
            g.output("logits", TensorProto.DataType.FLOAT, "batch_size", "sequence_length", c.vocabularySize());
            for (int layer = 0; layer < c.layers(); layer++) {
                for (String part : List.of("key", "value")) {
                    g.output("present." + layer + "." + part, TensorProto.DataType.FLOAT, "batch_size",
                            c.keyValueHeads(), "total_sequence_length", c.headWidth());
                }
            }
            positionIds = "position_ids";
            String residual = embeddings();
            for (int layer = 0; layer < c.layers(); layer++) {
                residual = block(layer, residual);
            }
            String z = norm(naming.finalNorm(), decoder.finalNorm(), residual);
            String logits = linear("/lm_head", decoder.unembed(), z, "lm_head.weight");
            float cap = decoder.finalLogitSoftcap();
            if (cap > 0) {
                logits = g.node("/lm_head/Div_softcap", "Div", logits, g.scalar(cap));
                logits = g.node("/lm_head/Tanh", "Tanh", logits);
                g.namedOutputNode("/lm_head/Mul_softcap", "Mul", "logits", logits, g.scalar(cap));
            } else {
                g.namedOutputNode("/lm_head/Identity", "Identity", "logits", logits);
            }
            return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("circuit-tracer")
                    .setProducerVersion(PRODUCER_VERSION).setDomain("org.circuittracer")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .addMetadataProps(entry("architecture", architecture))
                    .setGraph(g.graph()).build();
        }

        private String embeddings() {
            var embeddings = decoder.embeddings();
            String table = g.floats(naming.tokenTable(), values(embeddings.tokens()), shape(embeddings.tokens()));
            String embedded = g.node(naming.embed(), "Gather", table, "input_ids");
            if (embeddings.scale() != 1f) {
                embedded = g.node(naming.embedScale(), "Mul", embedded, g.scalar(embeddings.scale()));
            }
            if (embeddings.positions().isPresent()) {
                NDArray positions = embeddings.positions().get();
                String posTable = g.floats(naming.positionTable(), values(positions), shape(positions));
                String pos = g.node(naming.positionEmbed(), "Gather", posTable, positionIds);
                embedded = g.node(naming.embedSum(), "Add", embedded, pos);
            }
            return embedded;
        }

        private String block(int layer, String residual) {
            Block block = decoder.blocks().get(layer);
            String p = naming.block(layer);
            String attention = attention(layer, p + "/" + naming.attention(), block.attention(),
                    norm(p + "/" + naming.ln1(), block.ln1(), residual));
            if (block.ln1Post().isPresent()) {
                attention = norm(p + "/" + naming.ln1Post(), block.ln1Post().get(), attention);
            }
            String mid = g.node(p + "/Add", "Add", residual, attention);
            String mlpIn = norm(p + "/" + naming.ln2(), block.ln2(), mid);
            String mlpOut = mlp(p + "/mlp", block.mlp(), mlpIn);
            if (block.ln2Post().isPresent()) {
                mlpOut = norm(p + "/" + naming.ln2Post(), block.ln2Post().get(), mlpOut);
            }
            return g.node(p + "/Add_1", "Add", mid, mlpOut);
        }

        /**
         * A norm as elementary operations: {@code [ReduceMean_center, Sub,] Square, ReduceMean, Add (ε), Sqrt (the
         * scale), Div (normalised), Mul (gain) [, Add_1 (bias)]}.
         */
        private String norm(String prefix, NormWeights weights, String x) {
            String centered = x;
            if (weights.kind() == NormWeights.Kind.LAYER) {
                String mean = g.node(prefix + "/ReduceMean_center", "ReduceMean",
                        new onnx.Onnx.AttributeProto[] {GraphBuilder.ints("axes", -1)}, x);
                centered = g.node(prefix + "/Sub", "Sub", x, mean);
            }
            String square = g.node(prefix + "/Square", "Mul", centered, centered);
            String meanSquare = g.node(prefix + "/ReduceMean", "ReduceMean",
                    new onnx.Onnx.AttributeProto[] {GraphBuilder.ints("axes", -1)}, square);
            String shifted = g.node(prefix + "/Add", "Add", meanSquare, g.scalar(weights.epsilon()));
            String scale = g.node(prefix + "/Sqrt", "Sqrt", shifted);
            String normalized = g.node(prefix + "/Div", "Div", centered, scale);
            String gain = g.floats(initializerName(prefix, "weight"), values(weights.gain()), shape(weights.gain()));
            String y = g.node(prefix + "/Mul", "Mul", normalized, gain);
            if (weights.bias().isPresent()) {
                NDArray bias = weights.bias().get();
                y = g.node(prefix + "/Add_1", "Add", y, g.floats(initializerName(prefix, "bias"), values(bias),
                        shape(bias)));
            }
            return y;
        }

        private String attention(int layer, String prefix, Attention attention, String x) {
            AttentionSettings s = attention.settings();
            var w = attention.weights();
            int h = s.headWidth();
            String q;
            String k;
            String v;
            if (naming.fusedQkv()) {
                // GPT-2's c_attn: q | k | v along the output axis, split after the projection
                NDArray weight = w.query().weight().concat(w.key().weight(), 1).concat(w.value().weight(), 1);
                NDArray bias = w.query().bias().orElseThrow().concat(w.key().bias().orElseThrow())
                        .concat(w.value().bias().orElseThrow());
                String qkv = linear(prefix + "/c_attn", new Linear(weight, Optional.of(bias)), x, null);
                long[] widths = {(long) s.heads() * h, (long) s.keyValueHeads() * h, (long) s.keyValueHeads() * h};
                String[] parts = g.multiNode(prefix + "/Split", "Split", 3,
                        new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", -1)}, qkv, g.longs(widths));
                q = parts[0];
                k = parts[1];
                v = parts[2];
            } else {
                q = linear(prefix + "/q_proj", w.query(), x, null);
                k = linear(prefix + "/k_proj", w.key(), x, null);
                v = linear(prefix + "/v_proj", w.value(), x, null);
            }
            q = g.node(prefix + "/Reshape_q", "Reshape", q, g.longs(0, 0, s.heads(), h));
            k = g.node(prefix + "/Reshape_k", "Reshape", k, g.longs(0, 0, s.keyValueHeads(), h));
            v = g.node(prefix + "/Reshape_v", "Reshape", v, g.longs(0, 0, s.keyValueHeads(), h));
            if (w.queryNorm().isPresent()) {
                q = norm(prefix + "/q_norm", w.queryNorm().get(), q);
            }
            if (w.keyNorm().isPresent()) {
                k = norm(prefix + "/k_norm", w.keyNorm().get(), k);
            }
            var heads = new onnx.Onnx.AttributeProto[] {GraphBuilder.ints("perm", 0, 2, 1, 3)};
            q = g.node(prefix + "/Transpose_q", "Transpose", heads, q);
            k = g.node(prefix + "/Transpose_k", "Transpose", heads, k);
            v = g.node(prefix + "/Transpose_v", "Transpose", heads, v);
            if (s.rotary().isPresent()) {
                String[] table = rotation(s.rotary().get(), h);
                q = rotate(prefix + "/rotary_q", q, table, h);
                k = rotate(prefix + "/rotary_k", k, table, h);
            }
            var axis2 = new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", 2)};
            String keys = g.node(prefix + "/Concat_present_key", "Concat", axis2,
                    "past_key_values." + layer + ".key", k);
            String values = g.node(prefix + "/Concat_present_value", "Concat", axis2,
                    "past_key_values." + layer + ".value", v);
            g.namedOutputNode(prefix + "/Identity_present_key", "Identity", "present." + layer + ".key", keys);
            g.namedOutputNode(prefix + "/Identity_present_value", "Identity", "present." + layer + ".value", values);
            if (s.groupSize() > 1) {
                keys = repeatKeyValue(prefix + "/repeat_kv_key", keys, s);
                values = repeatKeyValue(prefix + "/repeat_kv_value", values, s);
            }
            String keysT = g.node(prefix + "/Transpose_key", "Transpose",
                    new onnx.Onnx.AttributeProto[] {GraphBuilder.ints("perm", 0, 1, 3, 2)}, keys);
            String scores = g.node(prefix + "/MatMul", "MatMul", q, keysT);
            scores = g.node(prefix + "/Mul_scale", "Mul", scores, g.scalar(s.scale()));
            if (s.logitSoftcap() > 0) {
                scores = g.node(prefix + "/Div_softcap", "Div", scores, g.scalar(s.logitSoftcap()));
                scores = g.node(prefix + "/Tanh", "Tanh", scores);
                scores = g.node(prefix + "/Mul_softcap", "Mul", scores, g.scalar(s.logitSoftcap()));
            }
            scores = g.node(prefix + "/Add_mask", "Add", scores, mask(s.slidingWindow()));
            String pattern = g.node(prefix + "/Softmax", "Softmax",
                    new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", -1)}, scores);
            String mixed = g.node(prefix + "/MatMul_1", "MatMul", pattern, values);
            mixed = g.node(prefix + "/Transpose_out", "Transpose", heads, mixed);
            mixed = g.node(prefix + "/Reshape_out", "Reshape", mixed, g.longs(0, 0, (long) s.heads() * h));
            return linear(prefix + "/" + naming.outputProjection(), w.output(), mixed, null);
        }

        /** {@code [B, KV, T, h]} to {@code [B, H, T, h]}: each key/value head repeated for its group of query heads. */
        private String repeatKeyValue(String prefix, String x, AttentionSettings s) {
            String expanded = g.node(prefix + "/Unsqueeze", "Unsqueeze", x, g.longs(2));
            expanded = g.node(prefix + "/Expand", "Expand", expanded, g.longs(1, 1, s.groupSize(), 1, 1));
            return g.node(prefix + "/Reshape", "Reshape", expanded, g.longs(0, s.heads(), -1, s.headWidth()));
        }

        /** {@code x·cos + rotate_half(x)·sin} with {@code rotate_half([a, b]) = [−b, a]}. */
        private String rotate(String prefix, String x, String[] table, int h) {
            String first = g.node(prefix + "/Slice", "Slice", x, g.longs(0), g.longs(h / 2), g.longs(-1));
            String second = g.node(prefix + "/Slice_1", "Slice", x, g.longs(h / 2), g.longs(h), g.longs(-1));
            String rotated = g.node(prefix + "/Concat", "Concat",
                    new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", -1)},
                    g.node(prefix + "/Neg", "Neg", second), first);
            return g.node(prefix + "/Add", "Add", g.node(prefix + "/Mul", "Mul", x, table[0]),
                    g.node(prefix + "/Mul_1", "Mul", rotated, table[1]));
        }

        /** cos and sin {@code [B, 1, S, h]} of the angles {@code position · θ_i} (a float32 product, as the djl backend). */
        private String[] rotation(RotaryEmbedding rotary, int h) {
            return rotations.computeIfAbsent(rotary, r -> {
                String p = "/model/rotary_emb" + (rotations.isEmpty() ? "" : "_" + rotations.size());
                float[] inv = r.inverseFrequencies();
                String freq = g.floats(p.substring(1).replace('/', '.') + ".inv_freq", inv, inv.length);
                String pos = g.node(p + "/Cast", "Cast", new onnx.Onnx.AttributeProto[] {
                        GraphBuilder.integer("to", TensorProto.DataType.FLOAT_VALUE)}, positionIds);
                pos = g.node(p + "/Unsqueeze", "Unsqueeze", pos, g.longs(-1));
                String angles = g.node(p + "/Mul", "Mul", pos, freq);
                angles = g.node(p + "/Concat", "Concat",
                        new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", -1)}, angles, angles);
                String cos = g.node(p + "/Unsqueeze_cos", "Unsqueeze", g.node(p + "/Cos", "Cos", angles), g.longs(1));
                String sin = g.node(p + "/Unsqueeze_sin", "Unsqueeze", g.node(p + "/Sin", "Sin", angles), g.longs(1));
                return new String[] {cos, sin};
            });
        }

        /**
         * The additive mask {@code [B, 1, S, past + S]}: 0 where query position {@code q} may see key position
         * {@code k} (k ≤ q, inside the window if any, not padding), −∞ elsewhere.
         */
        private String mask(int window) {
            return masks.computeIfAbsent(window, w -> {
                String p = "/model/mask" + (w > 0 ? "_window_" + w : "");
                String queries = g.node(p + "/Unsqueeze_query", "Unsqueeze", positionIds, g.longs(1, 3));
                String total = g.node(p + "/Gather_total", "Gather",
                        new onnx.Onnx.AttributeProto[] {GraphBuilder.integer("axis", 0)},
                        g.node(p + "/Shape", "Shape", "attention_mask"), g.longs(1));
                String range = g.node(p + "/Range", "Range", g.scalarLong(0), g.node(p + "/Squeeze", "Squeeze", total),
                        g.scalarLong(1));
                String keys = g.node(p + "/Reshape_key", "Reshape", range, g.longs(1, 1, 1, -1));
                String allowed = g.node(p + "/LessOrEqual", "LessOrEqual", keys, queries);
                if (w > 0) {
                    String earliest = g.node(p + "/Sub_window", "Sub", queries, g.scalarLong(w));
                    allowed = g.node(p + "/And_window", "And", allowed,
                            g.node(p + "/Greater_window", "Greater", keys, earliest));
                }
                String present = g.node(p + "/Cast_padding", "Cast", new onnx.Onnx.AttributeProto[] {
                        GraphBuilder.integer("to", TensorProto.DataType.BOOL_VALUE)}, "attention_mask");
                present = g.node(p + "/Unsqueeze_padding", "Unsqueeze", present, g.longs(1, 2));
                allowed = g.node(p + "/And", "And", allowed, present);
                return g.node(p + "/Where", "Where", allowed, g.scalar(0f), g.scalar(Float.NEGATIVE_INFINITY));
            });
        }

        private String mlp(String prefix, Mlp mlp, String x) {
            if (mlp instanceof Mlp.Gated gated) {
                String gate = linear(prefix + "/gate_proj", gated.gate(), x, null);
                String up = linear(prefix + "/up_proj", gated.up(), x, null);
                String hidden = g.node(prefix + "/Mul", "Mul", activation(prefix + "/act_fn", gated.activation(), gate),
                        up);
                return linear(prefix + "/down_proj", gated.down(), hidden, null);
            }
            Mlp.Dense dense = (Mlp.Dense) mlp;
            String hidden = linear(prefix + "/c_fc", dense.in(), x, null);
            return linear(prefix + "/c_proj", dense.out(), activation(prefix + "/act", dense.activation(), hidden), null);
        }

        private String activation(String prefix, Activation activation, String x) {
            return switch (activation) {
                case SILU -> g.node(prefix + "/Mul", "Mul", x, g.node(prefix + "/Sigmoid", "Sigmoid", x));
                case GELU_TANH -> {
                    String cube = g.node(prefix + "/Pow", "Pow", x, g.scalar(3f));
                    String inner = g.node(prefix + "/Add", "Add", g.node(prefix + "/Mul_cube", "Mul", cube,
                            g.scalar(0.044715f)), x);
                    inner = g.node(prefix + "/Mul_sqrt_2_over_pi", "Mul", inner,
                            g.scalar((float) Math.sqrt(2.0 / Math.PI)));
                    String t = g.node(prefix + "/Add_1", "Add", g.node(prefix + "/Tanh", "Tanh", inner), g.scalar(1f));
                    yield g.node(prefix + "/Mul_1", "Mul", g.node(prefix + "/Mul", "Mul", x, g.scalar(0.5f)), t);
                }
                case GELU -> {
                    String erf = g.node(prefix + "/Erf", "Erf", g.node(prefix + "/Div", "Div", x,
                            g.scalar((float) Math.sqrt(2.0))));
                    String t = g.node(prefix + "/Add", "Add", erf, g.scalar(1f));
                    yield g.node(prefix + "/Mul_1", "Mul", g.node(prefix + "/Mul", "Mul", x, g.scalar(0.5f)), t);
                }
            };
        }

        /** {@code x·W (+ b)}: nodes {@code prefix/MatMul} and {@code prefix/Add}; weights as {@code [in, out]}. */
        private String linear(String prefix, Linear linear, String x, String weightName) {
            String name = weightName != null ? weightName : initializerName(prefix, "weight");
            String w = g.floats(name, values(linear.weight()), shape(linear.weight()));
            String y = g.node(prefix + "/MatMul", "MatMul", x, w);
            if (linear.bias().isPresent()) {
                NDArray bias = linear.bias().get();
                y = g.node(prefix + "/Add", "Add", y, g.floats(initializerName(prefix, "bias"), values(bias),
                        shape(bias)));
            }
            return y;
        }

        /** {@code /model/layers.0/mlp/up_proj} + {@code weight} → {@code model.layers.0.mlp.up_proj.weight}. */
        private static String initializerName(String prefix, String part) {
            return prefix.substring(1).replace('/', '.') + "." + part;
        }

        private static float[] values(NDArray array) {
            // a contiguous float32 copy (weights may be transposed views)
            try (NDArray copy = array.toType(DataType.FLOAT32, true)) {
                return copy.toFloatArray();
            }
        }

        private static long[] shape(NDArray array) {
            return array.getShape().getShape();
        }
    }

    private static String producerVersion() {
        try (var in = OnnxExporter.class.getResourceAsStream("version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("${") ? "development" : v;
        } catch (IOException e) {
            return "development";
        }
    }
}
