package org.circuittracer.transcoders.community;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter;
import org.circuittracer.transcoders.reference.Tensor;

/** Writes one set of {@link TranscoderWeights} in each format under test, as the original tools lay it out. */
public final class FormatWriters {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a GemmaScope layer's file goes. */
    public enum GemmaLayout {
        /** {@code layer_{i}.npz}. */
        FLAT,
        /** {@code layer_{i}/params.npz}. */
        DIRECTORY,
        /** {@code layer_{i}/width_16k/average_l0_{n}/params.npz}, as in the GemmaScope release. */
        RELEASE
    }

    private FormatWriters() {
    }

    // ---------------------------------------------------------------- reference

    /** The reference format's per-layer layout (JumpReLU iff the weights have thresholds). */
    public static Path reference(Path dir, TranscoderWeights w, SiteKind read, SiteKind write,
                                 Optional<ActivationFunction> activation) {
        ReferenceConfig config = ReferenceConfig.of(ModelKind.TRANSCODER_SET, read, write).withScan("synthetic");
        if (activation.isPresent()) {
            config = config.withActivation(activation.get());
        }
        List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>();
        long f = w.features();
        long d = w.width();
        for (TranscoderWeights.Layer l : w.layers()) {
            layers.add(new ReferenceFormatWriter.PerLayerTensors(f32(l.wEnc(), f, d), f32(l.bEnc(), f),
                    f32(l.wDec(), f, d), f32(l.bDec(), d), l.threshold().map(t -> f32(t, f)),
                    l.wSkip().map(s -> f32(s, d, d))));
        }
        ReferenceFormatWriter.writePerLayer(dir, config, layers);
        return dir;
    }

    private static Tensor f32(float[] values, long... shape) {
        return Tensor.floats(DType.F32, shape, values);
    }

    // ---------------------------------------------------------------- GemmaScope

    /** The arrays of a GemmaScope {@code params.npz}; {@code W_enc} is stored {@code [d, F]}. */
    public static Map<String, NpzWriter.Array> gemmaArrays(TranscoderWeights w, int layer) {
        TranscoderWeights.Layer l = w.layers().get(layer);
        int f = w.features();
        int d = w.width();
        Map<String, NpzWriter.Array> arrays = new LinkedHashMap<>();
        arrays.put("W_enc", NpzWriter.Array.f32(new long[] {d, f}, TranscoderWeights.transpose(l.wEnc(), f, d)));
        arrays.put("W_dec", NpzWriter.Array.f32(new long[] {f, d}, l.wDec()));
        arrays.put("b_enc", NpzWriter.Array.f32(new long[] {f}, l.bEnc()));
        arrays.put("b_dec", NpzWriter.Array.f32(new long[] {d}, l.bDec()));
        arrays.put("threshold", NpzWriter.Array.f32(new long[] {f}, l.threshold().orElseThrow()));
        return arrays;
    }

    /** Without {@code config.yaml}, in one of the plain layouts. */
    public static Path gemmaPlain(Path dir, TranscoderWeights w, GemmaLayout layout, boolean compressed) {
        for (int layer = 0; layer < w.layers().size(); layer++) {
            Path file = switch (layout) {
                case FLAT -> dir.resolve("layer_" + layer + ".npz");
                case DIRECTORY -> dir.resolve("layer_" + layer).resolve("params.npz");
                case RELEASE -> dir.resolve("layer_" + layer + "/width_16k/average_l0_" + (40 + layer))
                        .resolve("params.npz");
            };
            createDirectories(file.getParent());
            NpzWriter.npz(file, gemmaArrays(w, layer), compressed);
        }
        return dir;
    }

    /** With the reference's {@code config.yaml} listing release-style files. */
    public static Path gemmaListed(Path dir, TranscoderWeights w, SiteKind read, SiteKind write) {
        List<String> listed = new ArrayList<>();
        for (int layer = 0; layer < w.layers().size(); layer++) {
            String name = "layer_" + layer + "/width_16k/average_l0_" + (40 + layer) + "/params.npz";
            createDirectories(dir.resolve(name).getParent());
            NpzWriter.npz(dir.resolve(name), gemmaArrays(w, layer), false);
            listed.add(name);
        }
        // an unlisted alternative width, as in a release, that must not be read
        createDirectories(dir.resolve("layer_0/width_65k/average_l0_80"));
        NpzWriter.npz(dir.resolve("layer_0/width_65k/average_l0_80/params.npz"), gemmaArrays(w, 0), false);
        String yaml = "model_kind: transcoder_set\nfeature_input_hook: " + read.hookName() + "\nfeature_output_hook: "
                + write.hookName() + "\nscan: synthetic/gemma\ntranscoders:\n"
                + String.join("", listed.stream().map(n -> "  - " + n + "\n").toList());
        writeString(dir.resolve("config.yaml"), yaml);
        return dir;
    }

    // ---------------------------------------------------------------- GemmaScope 2

    /**
     * A GemmaScope 2 transcoder set as Google publishes it: per layer {@code layer_{i}_width_16k_l0_small[_affine]/}
     * with {@code config.json} and {@code params.safetensors} ({@code w_enc [d, F]}, {@code w_dec [F, d]}, {@code b_enc},
     * {@code b_dec}, {@code threshold}, and {@code affine_skip_connection [d, d]} applied as {@code x @ A}, so that
     * {@code A = W_skipᵀ} of the weights); {@code edit} may change each config.
     */
    public static Path gemmaScope2(Path dir, TranscoderWeights w, DType dtype, BiConsumer<Integer, ObjectNode> edit) {
        int f = w.features();
        int d = w.width();
        for (int layer = 0; layer < w.layers().size(); layer++) {
            TranscoderWeights.Layer l = w.layers().get(layer);
            boolean affine = l.wSkip().isPresent();
            Path sub = dir.resolve("layer_" + layer + "_width_16k_l0_small" + (affine ? "_affine" : ""));
            createDirectories(sub);
            ObjectNode cfg = JSON.createObjectNode();
            cfg.put("architecture", "jump_relu").put("model_name", "gemma-v3-1b-pt")
                    .put("hf_hook_point_in", "model.layers." + layer + ".pre_feedforward_layernorm.output")
                    .put("hf_hook_point_out", "model.layers." + layer + ".post_feedforward_layernorm.output")
                    .put("affine_connection", affine);
            edit.accept(layer, cfg);
            writeString(sub.resolve("config.json"), cfg.toPrettyString());
            SafetensorsWriter weights = new SafetensorsWriter()
                    .addFloats("w_enc", dtype, new long[] {d, f}, TranscoderWeights.transpose(l.wEnc(), f, d))
                    .addFloats("w_dec", dtype, new long[] {f, d}, l.wDec())
                    .addFloats("b_enc", dtype, new long[] {f}, l.bEnc())
                    .addFloats("b_dec", dtype, new long[] {d}, l.bDec())
                    .addFloats("threshold", dtype, new long[] {f}, l.threshold().orElseThrow());
            l.wSkip().ifPresent(s -> weights.addFloats("affine_skip_connection", dtype, new long[] {d, d},
                    TranscoderWeights.transpose(s, d, d)));
            weights.write(sub.resolve("params.safetensors"));
        }
        return dir;
    }

    // ---------------------------------------------------------------- SAELens

    /**
     * A SAELens release: sub-directory {@code blocks.{i}.ln2.hook_normalized} per layer with {@code cfg.json}
     * (SAELens 6 style: hooks under {@code metadata}) and {@code sae_weights.safetensors}; {@code edit} may change
     * each config.
     */
    public static Path saeLens(Path dir, TranscoderWeights w, String architecture,
                               BiConsumer<Integer, ObjectNode> edit) {
        int f = w.features();
        int d = w.width();
        for (int layer = 0; layer < w.layers().size(); layer++) {
            TranscoderWeights.Layer l = w.layers().get(layer);
            Path sub = dir.resolve("blocks." + layer + ".ln2.hook_normalized");
            createDirectories(sub);
            ObjectNode cfg = JSON.createObjectNode();
            cfg.put("architecture", architecture).put("d_in", d).put("d_sae", f).put("d_out", d)
                    .put("dtype", "float32").put("device", "cpu").put("apply_b_dec_to_input", false)
                    .put("normalize_activations", "none").put("reshape_activations", "none");
            cfg.putObject("metadata").put("sae_lens_version", "6.12.1").put("model_name", "synthetic")
                    .put("hook_name", "blocks." + layer + ".ln2.hook_normalized")
                    .put("hook_name_out", "blocks." + layer + ".hook_mlp_out").put("prepend_bos", true);
            edit.accept(layer, cfg);
            writeString(sub.resolve("cfg.json"), cfg.toPrettyString());
            SafetensorsWriter weights = new SafetensorsWriter()
                    .addFloats("W_enc", new long[] {d, f}, TranscoderWeights.transpose(l.wEnc(), f, d))
                    .addFloats("b_enc", new long[] {f}, l.bEnc())
                    .addFloats("W_dec", new long[] {f, d}, l.wDec())
                    .addFloats("b_dec", new long[] {d}, l.bDec());
            l.threshold().ifPresent(t -> weights.addFloats("threshold", new long[] {f}, t));
            l.wSkip().ifPresent(s -> weights.addFloats("W_skip", new long[] {d, d}, s));
            weights.write(sub.resolve("sae_weights.safetensors"));
        }
        return dir;
    }

    // ---------------------------------------------------------------- sparsify

    /** A sparsify checkpoint: {@code layers.{i}.mlp/cfg.json} and {@code sae.safetensors}, and the training config. */
    public static Path sparsify(Path dir, TranscoderWeights w, int k, BiConsumer<Integer, ObjectNode> edit) {
        int f = w.features();
        int d = w.width();
        createDirectories(dir);
        writeString(dir.resolve("config.json"), "{\"sae\": {\"transcode\": true, \"k\": " + k + "}, "
                + "\"batch_size\": 8}");
        for (int layer = 0; layer < w.layers().size(); layer++) {
            TranscoderWeights.Layer l = w.layers().get(layer);
            Path sub = dir.resolve("layers." + layer + ".mlp");
            createDirectories(sub);
            ObjectNode cfg = JSON.createObjectNode();
            cfg.put("activation", "topk").put("expansion_factor", 32).put("normalize_decoder", true)
                    .put("num_latents", f).put("k", k).put("multi_topk", false)
                    .put("skip_connection", l.wSkip().isPresent()).put("transcode", true).put("d_in", d);
            edit.accept(layer, cfg);
            writeString(sub.resolve("cfg.json"), cfg.toString());
            SafetensorsWriter weights = new SafetensorsWriter()
                    .addFloats("encoder.weight", new long[] {f, d}, l.wEnc())
                    .addFloats("encoder.bias", new long[] {f}, l.bEnc())
                    .addFloats("W_dec", new long[] {f, d}, l.wDec())
                    .addFloats("b_dec", new long[] {d}, l.bDec());
            l.wSkip().ifPresent(s -> weights.addFloats("W_skip", new long[] {d, d}, s));
            weights.write(sub.resolve("sae.safetensors"));
        }
        return dir;
    }

    // ---------------------------------------------------------------- files

    public static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void writeString(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
