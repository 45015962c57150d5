package org.circuittracer.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.circuittracer.demo.tokenizer.WordLevelVocabulary;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * The synthetic configurations of {@code circuit-tracer bench --synthetic} (issue 16): a seeded random Llama-style
 * checkpoint (float32, with a word-level tokenizer of {@code <pad> <bos> <eos> <unk> w4 … w(V−1)}) and seeded random
 * per-layer ReLU transcoders in the reference layout ({@code layer_i.safetensors} + {@code config.yaml}, reading
 * {@code mlp.hook_in}, writing {@code mlp.hook_out}) whose encoder biases are calibrated so that a chosen fraction of
 * the features fires per position.
 *
 * <p>Calibration: the model runs once on the calibration sequence (the first {@link Spec#calibrationLength} ids of the
 * configuration's token stream, BOS first); for every feature {@code f} of layer {@code l} the pre-activations
 * {@code W_enc[f]·x_t} over those positions are sorted and {@code b_enc[f]} is set to minus the midpoint between the
 * {@code k}-th and {@code (k+1)}-th largest, {@code k = round(fraction · C)}: each feature then fires at exactly
 * {@code k} of the {@code C} calibration positions, i.e. on average {@code fraction} of the features fire per
 * position. Configurations that differ only in the prompt length share the calibration sequence (their prompts are
 * prefixes of it), so perf16 and perf64 use identical files. The Gemma-2-shaped configurations calibrate JumpReLU
 * thresholds instead, on several prompt-length sequences ({@link #calibrationSequences}, {@link Gemma2Files}).
 *
 * <p>Everything is written into a temporary sibling directory and renamed into place, so a directory that exists is
 * complete; it is reused when its {@code synthetic.json} matches the configuration.
 */
final class SyntheticBench {

    static final String DESCRIPTION_FILE = "synthetic.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int SPECIAL_TOKENS = 4;
    private static final int BOS = 1;

    /**
     * One synthetic configuration.
     *
     * @param name              {@code --synthetic} name
     * @param layers            {@code L}
     * @param hidden            {@code d}
     * @param heads             query heads {@code H}
     * @param kvHeads           key-value heads
     * @param headDim           head width {@code h}
     * @param mlp               MLP width
     * @param vocabulary        vocabulary size
     * @param features          transcoder features per layer
     * @param firingFraction    fraction of the features that fires per position (calibrated)
     * @param promptLength      prompt tokens {@code T} (first = BOS)
     * @param calibrationLength positions the encoder biases are calibrated on ({@code >= promptLength})
     * @param maxFeatureNodes   default {@code max_feature_nodes}
     * @param batchSize         default batch size
     * @param family            the model and transcoder family
     * @param warmups           default {@code --warmups} of the matmul/forward/VJP measurements
     * @param iterations        default {@code --iterations} of those measurements
     */
    record Spec(String name, int layers, int hidden, int heads, int kvHeads, int headDim, int mlp, int vocabulary,
                int features, double firingFraction, int promptLength, int calibrationLength, int maxFeatureNodes,
                int batchSize, Family family, int warmups, int iterations) {

        Spec {
            if (layers < 1 || hidden < 1 || heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || headDim < 1 || mlp < 1
                    || vocabulary <= SPECIAL_TOKENS || features < 1 || !(firingFraction > 0 && firingFraction < 1)
                    || promptLength < 2 || calibrationLength < promptLength || family == null || warmups < 0
                    || iterations < 1) {
                throw new IllegalArgumentException("bad synthetic configuration " + name);
            }
        }

        /** At how many of the calibration positions each feature fires. */
        int firingPositions() {
            return Math.max(1, Math.min(calibrationLength - 1, (int) Math.round(firingFraction * calibrationLength)));
        }

        /** The files' identity (everything that changes them): the cache directory is reused only when it matches. */
        Map<String, Object> identity(long seed) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", 1);
            m.put("seed", seed);
            m.put("layers", layers);
            m.put("hidden", hidden);
            m.put("heads", heads);
            m.put("kv_heads", kvHeads);
            m.put("head_dim", headDim);
            m.put("mlp", mlp);
            m.put("vocabulary", vocabulary);
            m.put("features", features);
            m.put("firing_fraction", firingFraction);
            m.put("calibration_length", calibrationLength);
            if (family != Family.LLAMA) { // so that the perf16/perf64/tiny directories written before stay valid
                m.put("family", family.name().toLowerCase(Locale.ROOT));
                m.put("calibration", "prompt-length sequences");
            }
            return m;
        }
    }

    /** What the files are. */
    enum Family {
        /**
         * {@code LlamaForCausalLM}, float32 weights; per-layer ReLU transcoders (float32) reading {@code mlp.hook_in},
         * writing {@code mlp.hook_out}, encoder biases calibrated.
         */
        LLAMA,
        /**
         * {@code Gemma2ForCausalLM} (sandwich norms, soft-caps, sliding window on alternate layers, tied embeddings),
         * bfloat16 weights in one shard per layer; per-layer JumpReLU transcoders as GemmaScope's (reading
         * {@code ln2.hook_normalized}, writing {@code hook_mlp_out}; {@code W_enc}/{@code W_dec} bfloat16, biases and
         * thresholds float32), thresholds calibrated.
         */
        GEMMA2
    }

    /** The named configurations. {@code tiny} is a seconds-long smoke configuration (tests). */
    static final Map<String, Spec> CONFIGURATIONS;

    static {
        Map<String, Spec> m = new LinkedHashMap<>();
        m.put("perf16", new Spec("perf16", 8, 256, 8, 4, 32, 688, 512, 1024, 0.10, 16, 64, 7500, 256, Family.LLAMA, 2,
                5));
        m.put("perf64", new Spec("perf64", 8, 256, 8, 4, 32, 688, 512, 1024, 0.10, 64, 64, 7500, 256, Family.LLAMA, 2,
                5));
        m.put("tiny", new Spec("tiny", 2, 32, 4, 2, 8, 64, 64, 64, 0.10, 8, 16, 32, 16, Family.LLAMA, 2, 5));
        // Gemma-2-2B's shape with a 32k vocabulary; each feature fires at 1 of 256 calibration positions (8 sequences
        // of 32 tokens, the prompt one of them), i.e. 64 of 16,384 per position on average. Batch 128: a batch's
        // gradients at 26 write sites are [B, 32, 2304] each (75 MB per layer at B = 256). One forward/VJP measurement each: a forward pass takes seconds here.
        m.put("gemma2-2b-shape", new Spec("gemma2-2b-shape", 26, 2304, 8, 4, 256, 9216, 32768, 16384, 1.0 / 256, 32,
                256, 1024, 128, Family.GEMMA2, 0, 1));
        m.put("tiny-gemma2", new Spec("tiny-gemma2", 2, 32, 4, 2, 8, 64, 64, 64, 1.0 / 16, 8, 16, 32, 16,
                Family.GEMMA2, 2, 5));
        CONFIGURATIONS = Map.copyOf(m);
    }

    static final List<String> NAMES = List.of("perf16", "perf64", "gemma2-2b-shape", "tiny", "tiny-gemma2");

    private SyntheticBench() {
    }

    /** The model and transcoder directories of one written configuration. */
    record Written(Path directory, Path model, Path transcoders, boolean reused, double seconds) {
    }

    /** {@code $XDG_CACHE_HOME/circuit-tracer/bench} or {@code ~/.cache/circuit-tracer/bench}. */
    static Path defaultCacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path root = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return root.resolve("circuit-tracer").resolve("bench");
    }

    /**
     * The token ids of the configuration's stream: BOS, then uniform ids among the non-special tokens. The prompt
     * is its first {@code length} ids.
     */
    static int[] tokens(Spec spec, long seed, int length) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 3);
        int[] ids = new int[length];
        ids[0] = BOS;
        for (int i = 1; i < length; i++) {
            ids[i] = SPECIAL_TOKENS + random.nextInt(spec.vocabulary() - SPECIAL_TOKENS);
        }
        return ids;
    }

    /**
     * Writes the configuration into {@code directory} unless it already holds it.
     *
     * @param openModel opens a model directory through the chosen backend (for the calibration forward pass)
     */
    static Written ensure(Spec spec, long seed, Path directory, java.util.function.Function<Path, TransformerModel> openModel,
                          Consumer<String> note) {
        long start = System.nanoTime();
        Map<String, Object> identity = spec.identity(seed);
        if (Files.isDirectory(directory)) {
            checkIdentity(directory, identity);
            note.accept("Reusing the synthetic " + spec.name() + " files in " + directory);
            return new Written(directory, directory.resolve("model"), directory.resolve("transcoders"), true,
                    (System.nanoTime() - start) / 1e9);
        }
        Path temporary = directory.resolveSibling("." + directory.getFileName() + ".tmp-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime());
        try {
            Files.createDirectories(temporary);
            note.accept("Writing the synthetic " + spec.name() + " model and transcoders (seed " + seed + ") to "
                    + directory + " ...");
            boolean gemma = spec.family() == Family.GEMMA2;
            Path model = gemma ? Gemma2Files.writeModel(temporary.resolve("model"), spec, seed)
                    : writeModel(temporary.resolve("model"), spec, seed);
            float[][] inputs = calibrate(openModel, model, spec, seed);
            if (gemma) {
                Gemma2Files.writeTranscoders(temporary.resolve("transcoders"), spec, seed, inputs);
            } else {
                writeTranscoders(temporary.resolve("transcoders"), spec, seed, inputs);
            }
            Files.writeString(temporary.resolve(DESCRIPTION_FILE), JSON.writeValueAsString(identity));
            try {
                Files.move(temporary, directory, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another process finished first: use its files
                deleteRecursively(temporary);
                checkIdentity(directory, identity);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + temporary + " to " + directory + " atomically", e);
            }
        } catch (IOException e) {
            deleteRecursively(temporary);
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write the synthetic "
                    + "configuration into " + directory + ": " + e, e);
        } catch (RuntimeException | Error e) {
            deleteRecursively(temporary);
            throw e;
        }
        // The writers' direct buffers (~1 GB for gemma2-2b-shape) and the calibration model's shard mappings (4 GB)
        // are released only when collected, by cleaner threads after the collection: wait for them, or the benchmark's
        // own model maps the same pages again and its peak RSS counts them twice (docs/benchmarks/synthetic.md).
        int left = releaseMappings(List.of(directory, temporary), 10_000);
        if (left > 0) {
            note.accept("Note: " + left + " mappings of the files just written are still held; the peak RSS below "
                    + "counts them (run again to reuse the files).");
        }
        return new Written(directory, directory.resolve("model"), directory.resolve("transcoders"), false,
                (System.nanoTime() - start) / 1e9);
    }

    /**
     * The calibration inputs, from a model opened and closed here: in its own method so that no frame of
     * {@link #ensure} keeps the closed model (and its mapped shards) reachable while the files are released.
     */
    private static float[][] calibrate(java.util.function.Function<Path, TransformerModel> openModel, Path model,
                                       Spec spec, long seed) {
        try (TransformerModel opened = openModel.apply(model)) {
            return calibrationInputs(opened, spec, calibrationSequences(spec, seed),
                    spec.family() == Family.GEMMA2 ? SiteKind.LN2_NORMALIZED : SiteKind.MLP_IN);
        }
    }

    /**
     * Collects garbage until this process maps no file under {@code directories} (Linux: {@code /proc/self/maps}), at
     * most {@code timeoutMillis}; returns the mappings left (0 where the maps cannot be read, after one collection).
     */
    static int releaseMappings(List<Path> directories, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        int left;
        do {
            System.gc();
            left = mappingsUnder(directories);
            if (left == 0) {
                return 0;
            }
            try {
                Thread.sleep(100); // the cleaners unmap after the collection, on their own thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
        } while (System.nanoTime() < deadline);
        return mappingsUnder(directories);
    }

    private static int mappingsUnder(List<Path> directories) {
        List<String> prefixes = directories.stream().map(d -> d.toAbsolutePath() + "/").toList();
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.filter(line -> prefixes.stream().anyMatch(line::contains)).count();
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return 0;
        }
    }

    private static void checkIdentity(Path directory, Map<String, Object> identity) {
        try {
            // both parsed from text, so that numbers compare by value (1 vs 1L)
            JsonNode found = JSON.readTree(directory.resolve(DESCRIPTION_FILE).toFile());
            if (!found.equals(JSON.readTree(JSON.writeValueAsString(identity)))) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " holds another "
                        + "synthetic configuration (" + found + "); delete it or give another --work-dir.");
            }
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " is not a synthetic "
                    + "benchmark directory (no readable " + DESCRIPTION_FILE + "); delete it or give another "
                    + "--work-dir.", e);
        }
    }

    /** The config.json fields every synthetic architecture shares, in Hugging Face's names. */
    static ObjectNode configJson(Spec spec, String architecture, String modelType) {
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add(architecture);
        config.put("model_type", modelType);
        config.put("vocab_size", spec.vocabulary());
        config.put("hidden_size", spec.hidden());
        config.put("intermediate_size", spec.mlp());
        config.put("num_hidden_layers", spec.layers());
        config.put("num_attention_heads", spec.heads());
        config.put("num_key_value_heads", spec.kvHeads());
        config.put("head_dim", spec.headDim());
        return config;
    }

    /** config.json, model.safetensors (uniform weights, standard deviation 0.02, norm gains 1), tokenizer files. */
    static Path writeModel(Path directory, Spec spec, long seed) throws IOException {
        Files.createDirectories(directory);
        ObjectNode config = configJson(spec, "LlamaForCausalLM", "llama");
        config.put("hidden_act", "silu");
        config.put("max_position_embeddings", Math.max(2048, spec.calibrationLength()));
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 500000.0);
        config.put("attention_bias", false);
        config.put("mlp_bias", false);
        config.put("bos_token_id", BOS);
        config.put("eos_token_id", 2);
        config.put("pad_token_id", 0);
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "float32");
        Files.writeString(directory.resolve("config.json"), JSON.writeValueAsString(config));
        writeTokenizer(directory, spec.vocabulary(), Math.max(2048, spec.calibrationLength()));

        SplittableRandom random = new SplittableRandom(seed);
        int d = spec.hidden();
        int q = spec.heads() * spec.headDim();
        int kv = spec.kvHeads() * spec.headDim();
        int m = spec.mlp();
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        w.addFloats("model.embed_tokens.weight", new long[] {spec.vocabulary(), d}, uniform(random, spec.vocabulary() * d));
        for (int layer = 0; layer < spec.layers(); layer++) {
            String p = "model.layers." + layer + ".";
            w.addFloats(p + "input_layernorm.weight", new long[] {d}, ones(d));
            w.addFloats(p + "self_attn.q_proj.weight", new long[] {q, d}, uniform(random, q * d));
            w.addFloats(p + "self_attn.k_proj.weight", new long[] {kv, d}, uniform(random, kv * d));
            w.addFloats(p + "self_attn.v_proj.weight", new long[] {kv, d}, uniform(random, kv * d));
            w.addFloats(p + "self_attn.o_proj.weight", new long[] {d, q}, uniform(random, d * q));
            w.addFloats(p + "post_attention_layernorm.weight", new long[] {d}, ones(d));
            w.addFloats(p + "mlp.gate_proj.weight", new long[] {m, d}, uniform(random, m * d));
            w.addFloats(p + "mlp.up_proj.weight", new long[] {m, d}, uniform(random, m * d));
            w.addFloats(p + "mlp.down_proj.weight", new long[] {d, m}, uniform(random, d * m));
        }
        w.addFloats("model.norm.weight", new long[] {d}, ones(d));
        w.addFloats("lm_head.weight", new long[] {spec.vocabulary(), d}, uniform(random, spec.vocabulary() * d));
        w.write(directory.resolve("model.safetensors"));
        return directory;
    }

    /** A word-level tokenizer: {@code <pad> <bos> <eos> <unk>} (special), then {@code w4 … w(V−1)}. */
    static void writeTokenizer(Path directory, int vocabulary, int maxPositions) {
        List<String> words = new ArrayList<>();
        for (int i = 4; i < vocabulary; i++) {
            words.add("w" + i);
        }
        WordLevelVocabulary.ofWords(words).write(directory, maxPositions);
    }

    /**
     * The sequences the thresholds or biases are calibrated on, {@code C} positions in all. {@link Family#LLAMA}: one
     * sequence, the first {@code C} ids of the stream (perf16's and perf64's prompts are its prefixes).
     * {@link Family#GEMMA2}: {@code C / T} sequences of the prompt's length {@code T}, the stream cut into pieces each
     * starting with BOS, the first being the prompt itself; the prompt's positions are then drawn like the calibration
     * positions (one long sequence made the first 32 positions fire twice as often as its average).
     */
    static List<int[]> calibrationSequences(Spec spec, long seed) {
        int[] stream = tokens(spec, seed, spec.calibrationLength());
        if (spec.family() == Family.LLAMA) {
            return List.of(stream);
        }
        int t = spec.promptLength();
        if (spec.calibrationLength() % t != 0) {
            throw new IllegalArgumentException("calibration length " + spec.calibrationLength()
                    + " is not a multiple of the prompt length " + t);
        }
        List<int[]> sequences = new ArrayList<>();
        for (int from = 0; from < stream.length; from += t) {
            int[] piece = Arrays.copyOfRange(stream, from, from + t);
            piece[0] = BOS;
            sequences.add(piece);
        }
        return sequences;
    }

    /** The transcoders' input site of every layer over the calibration sequences, concatenated: {@code [L][C·d]}. */
    private static float[][] calibrationInputs(TransformerModel model, Spec spec, List<int[]> sequences,
                                               SiteKind site) {
        ModelConfig c = model.config();
        List<Hook> hooks = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            hooks.add(new Hook.Capture(HookSite.of(site, l)));
        }
        int positions = sequences.stream().mapToInt(ids -> ids.length).sum();
        float[][] inputs = new float[c.layers()][positions * spec.hidden()];
        int offset = 0;
        for (int[] ids : sequences) {
            try (NDManager manager = NDManager.newBaseManager()) {
                ForwardResult result = model.forward(manager, new TokenSequence(ids), hooks);
                for (int l = 0; l < c.layers(); l++) {
                    NDArray x = result.captured().get(HookSite.of(site, l));
                    float[] values = x.toFloatArray();
                    if (values.length != ids.length * spec.hidden()) {
                        throw new IllegalStateException("unexpected " + HookSite.of(site, l) + " shape "
                                + x.getShape());
                    }
                    System.arraycopy(values, 0, inputs[l], offset, values.length);
                }
            }
            offset += ids.length * spec.hidden();
        }
        return inputs;
    }

    /**
     * {@code layer_i.safetensors} ({@code W_enc [F, d]} Gaussian with standard deviation {@code 1/√d}, calibrated
     * {@code b_enc [F]}, {@code W_dec [F, d]} Gaussian {@code 0.1/√d}, {@code b_dec [d]} zero) and {@code config.yaml}.
     */
    static void writeTranscoders(Path directory, Spec spec, long seed, float[][] inputs) throws IOException {
        Files.createDirectories(directory);
        Random random = new Random(seed * 31 + 11);
        int d = spec.hidden();
        int f = spec.features();
        int c = spec.calibrationLength();
        int firing = spec.firingPositions();
        for (int layer = 0; layer < spec.layers(); layer++) {
            float[] enc = gaussian(random, 1 / Math.sqrt(d), f * d);
            float[] dec = gaussian(random, 0.1 / Math.sqrt(d), f * d);
            float[] bias = new float[f];
            float[] x = inputs[layer];
            float[] pre = new float[c];
            for (int feature = 0; feature < f; feature++) {
                for (int t = 0; t < c; t++) {
                    double s = 0;
                    for (int k = 0; k < d; k++) {
                        s += enc[feature * d + k] * x[t * d + k];
                    }
                    pre[t] = (float) s;
                }
                Arrays.sort(pre);
                // fires (pre + b > 0) at exactly the `firing` largest positions
                bias[feature] = -(pre[c - firing] + pre[c - firing - 1]) / 2;
            }
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            w.addFloats("W_enc", DType.F32, new long[] {f, d}, enc);
            w.addFloats("b_enc", DType.F32, new long[] {f}, bias);
            w.addFloats("W_dec", DType.F32, new long[] {f, d}, dec);
            w.addFloats("b_dec", DType.F32, new long[] {d}, new float[d]);
            w.write(directory.resolve("layer_" + layer + ".safetensors"));
        }
        String yaml = "model_kind: transcoder_set\n"
                + "model_name: circuit-tracer/synthetic-" + spec.name() + "\n"
                + "feature_input_hook: mlp.hook_in\n"
                + "feature_output_hook: mlp.hook_out\n"
                + "activation: relu\n";
        Files.writeString(directory.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
    }

    /**
     * The FLOP floor of one graph, per row (issue 16's counting): the attention adjoint of every layer over the full
     * {@code T×T} square (no causal truncation): {@code L·(2·T·d·H·h + 2·H·T²·h + 2·T·KV·h·d)}, plus one
     * {@code d}-long dot product per source column: {@code 2·d·(N_act + (L+1)·T)} (active features, error nodes,
     * token embeddings).
     */
    static double floorFlopsPerRow(ModelConfig c, int t, long activeFeatures) {
        return BenchCommand.vjpFlops(c, 1, t) + 2.0 * c.modelWidth() * (activeFeatures + (c.layers() + 1L) * t);
    }

    /**
     * The same floor with the truncation the sweep may exploit: a feature row seeded at layer {@code ℓ}, position
     * {@code p} needs the attention adjoints of layers {@code 0 … ℓ} only, on positions {@code 0 … p} only (causality);
     * a logit row needs all {@code L} layers on all {@code T} positions. The contraction term is the full formula's.
     */
    static double truncatedFloorFlops(ModelConfig c, int t, long activeFeatures, List<Node.FeatureNode> selected,
                                      int logitRows) {
        double contraction = 2.0 * c.modelWidth() * (activeFeatures + (c.layers() + 1L) * t);
        double total = logitRows * (BenchCommand.vjpFlops(c, 1, t) + contraction);
        for (Node.FeatureNode f : selected) {
            double perLayer = BenchCommand.vjpFlops(c, 1, f.position() + 1) / c.layers();
            total += (f.layer() + 1) * perLayer + contraction;
        }
        return total;
    }

    static String describe(Spec s) {
        return describe(s, s.maxFeatureNodes(), s.batchSize());
    }

    /** The configuration with the request options actually used. */
    static String describe(Spec s, int maxFeatureNodes, int batchSize) {
        if (s.family() == Family.GEMMA2) {
            return String.format(Locale.ROOT, "%s: Gemma-2-style (sandwich norms, soft-caps, sliding window), bf16, "
                            + "%d layers, hidden %d, %d heads / %d KV heads, head dim %d, MLP %d, vocabulary %d; "
                            + "per-layer JumpReLU transcoders (bf16), %d features/layer, ~%.0f firing per position; "
                            + "%d-token prompt; max_feature_nodes %d, batch %d", s.name(), s.layers(), s.hidden(),
                    s.heads(), s.kvHeads(), s.headDim(), s.mlp(), s.vocabulary(), s.features(),
                    s.features() * (double) s.firingPositions() / s.calibrationLength(), s.promptLength(),
                    maxFeatureNodes, batchSize);
        }
        return String.format(Locale.ROOT, "%s: Llama-style, %d layers, hidden %d, %d heads / %d KV heads, head dim %d, "
                        + "MLP %d, vocabulary %d; per-layer ReLU transcoders, %d features/layer, ~%.0f%% firing; "
                        + "%d-token prompt; max_feature_nodes %d, batch %d", s.name(), s.layers(), s.hidden(), s.heads(),
                s.kvHeads(), s.headDim(), s.mlp(), s.vocabulary(), s.features(), 100 * s.firingFraction(),
                s.promptLength(), maxFeatureNodes, batchSize);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    /** Uniform on [−a, a], a = 0.02·√3 (standard deviation 0.02). */
    private static float[] uniform(SplittableRandom random, int n) {
        float[] v = new float[n];
        double a = 0.02 * Math.sqrt(3);
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * a);
        }
        return v;
    }

    private static float[] gaussian(Random random, double scale, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
