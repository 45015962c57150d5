package org.circuittracer.transcoders.saelens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.community.DirectComputation;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SAELens 6's {@code jumprelu_skip_transcoder}, the class its GemmaScope 2 loader builds for the affine transcoders
 * ({@code transcoder_all/layer_N_width_…_affine}), as {@code SAE.save_model} writes it: {@code cfg.json} from
 * {@code SAEConfig.to_dict()} (fields, {@code metadata}, {@code d_out}, {@code architecture}) and
 * {@code sae_weights.safetensors} with {@code W_enc [d_in, d_sae]}, {@code b_enc}, {@code W_dec [d_sae, d_out]},
 * {@code b_dec}, {@code threshold [d_sae]} and {@code W_skip [d_out, d_in]}. Run on the tiny Gemma 3's MLP inputs
 * against SAELens's computation written out: {@code ReLU(h)·[h > θ]}, {@code a·W_dec + b_dec + x·W_skipᵀ}.
 */
class SaeLensSkipTranscoderTest {

    private static final int LAYERS = 4;
    private static final int WIDTH = 56;
    private static final int FEATURES = 96;

    @TempDir
    Path dir;

    /** The cfg.json of layer {@code layer} with the hook names SAELens's current GemmaScope 2 loader gives. */
    static String cfg(int layer, String dtype, String hookName, String hfHookName) {
        return """
                {
                  "d_in": %2$d,
                  "d_sae": %3$d,
                  "dtype": "%4$s",
                  "device": "cpu",
                  "apply_b_dec_to_input": false,
                  "normalize_activations": "none",
                  "reshape_activations": "none",
                  "metadata": {
                    "sae_lens_version": "6.26.0",
                    "sae_lens_training_version": null,
                    "model_name": "google/gemma-3-1b-pt",
                    "hook_name": "%5$s",
                    "hook_head_index": null,
                    "prepend_bos": true,
                    "dataset_path": "monology/pile-uncopyrighted",
                    "context_size": 1024,
                    "hf_hook_name": "%6$s",
                    "hook_name_out": "blocks.%1$d.hook_mlp_out",
                    "hf_hook_name_out": "model.layers.%1$d.post_feedforward_layernorm.output",
                    "neuronpedia_id": null
                  },
                  "d_out": %2$d,
                  "architecture": "jumprelu_skip_transcoder"
                }
                """.formatted(layer, WIDTH, FEATURES, dtype, hookName.formatted(layer), hfHookName.formatted(layer));
    }

    static String gemmaScope2Cfg(int layer) {
        return cfg(layer, "float32", "blocks.%d.hook_mlp_in", "model.layers.%d.pre_feedforward_layernorm.output");
    }

    /** One directory per layer, named as SAELens's release ids name them. */
    static Path write(Path set, TranscoderWeights w, DType dtype, IntFunction<String> cfg) {
        for (int layer = 0; layer < w.layers().size(); layer++) {
            TranscoderWeights.Layer l = w.layers().get(layer);
            Path sub = set.resolve("layer_" + layer + "_width_16k_l0_small_affine");
            FormatWriters.createDirectories(sub);
            FormatWriters.writeString(sub.resolve("cfg.json"), cfg.apply(layer));
            new SafetensorsWriter()
                    .addFloats("W_enc", dtype, new long[] {WIDTH, FEATURES},
                            TranscoderWeights.transpose(l.wEnc(), FEATURES, WIDTH))
                    .addFloats("b_enc", dtype, new long[] {FEATURES}, l.bEnc())
                    .addFloats("W_dec", dtype, new long[] {FEATURES, WIDTH}, l.wDec())
                    .addFloats("b_dec", dtype, new long[] {WIDTH}, l.bDec())
                    .addFloats("threshold", dtype, new long[] {FEATURES}, l.threshold().orElseThrow())
                    .addFloats("W_skip", dtype, new long[] {WIDTH, WIDTH}, l.wSkip().orElseThrow())
                    .write(sub.resolve("sae_weights.safetensors"));
        }
        return set;
    }

    /** SAELens's computation of one layer from what its file holds ({@code W_enc} used transposed, as stored). */
    static DirectComputation direct(Path set, int layer) {
        Path file = set.resolve("layer_" + layer + "_width_16k_l0_small_affine/sae_weights.safetensors");
        return new DirectComputation(FEATURES, WIDTH,
                TranscoderWeights.transpose(DirectComputation.stored(file, "W_enc"), WIDTH, FEATURES),
                DirectComputation.stored(file, "b_enc"), DirectComputation.stored(file, "W_dec"),
                DirectComputation.stored(file, "b_dec"), Optional.of(DirectComputation.stored(file, "threshold")),
                Optional.empty(), Optional.of(DirectComputation.stored(file, "W_skip")), false);
    }

    static void assertComputesAsSaeLens(Path set, SiteKind readSite) {
        try (SparseDictionary d = new SaeLensProvider().create(DictionarySource.of(set))) {
            assertThat(d.layers()).isEqualTo(LAYERS);
            assertThat(d.readSite()).isEqualTo(readSite);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT);
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.JumpRelu());
            assertThat(d.capabilities()).contains(DictionaryCapability.SKIP_CONNECTION);
            for (int layer = 0; layer < LAYERS; layer++) {
                int[] tokens = new int[1];
                float[] x = DirectComputation.golden("gemma3", "p0.layers." + layer + ".mlp_in", tokens);
                direct(set, layer).assertAgrees(d, layer, x, tokens[0]);
            }
        }
    }

    @Test
    void gemmaScope2AffineTranscodersReadTheMlpInputAndComputeAsSaeLens() {
        TranscoderWeights weights = TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 21, true, true);
        Path set = write(dir.resolve("f32"), weights, DType.F32, SaeLensSkipTranscoderTest::gemmaScope2Cfg);
        assertThat(new SaeLensProvider().recognize(set).matches()).isTrue();
        assertComputesAsSaeLens(set, SiteKind.MLP_IN);
    }

    @Test
    void bfloat16WeightsComputeAsStored() {
        Path set = write(dir.resolve("bf16"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 22, true, true),
                DType.BF16, l -> cfg(l, "bfloat16", "blocks.%d.hook_mlp_in",
                        "model.layers.%d.pre_feedforward_layernorm.output"));
        assertComputesAsSaeLens(set, SiteKind.MLP_IN);
    }

    @Test
    void theFirstGemmaScope2LoadersLn2HookNameReadsWhatItsHuggingFaceHookSays() {
        // SAELens's first GemmaScope 2 loader named the input blocks.N.ln2.hook_normalized (TransformerLens: before
        // the norm's gain) with hf_hook_name ….pre_feedforward_layernorm.output (after it): the weights expect the
        // latter, as SAELens's later hook_mlp_in says
        TranscoderWeights weights = TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 23, true, true);
        Path set = write(dir.resolve("ln2"), weights, DType.F32, l -> cfg(l, "float32",
                "blocks.%d.ln2.hook_normalized", "model.layers.%d.pre_feedforward_layernorm.output"));
        assertComputesAsSaeLens(set, SiteKind.MLP_IN);
        // without a Hugging Face hook name, ln2.hook_normalized is what it says
        Path plain = write(dir.resolve("ln2-plain"), weights, DType.F32, l -> cfg(l, "float32",
                "blocks.%d.ln2.hook_normalized", "").replace("\"hf_hook_name\": \"\",", ""));
        try (SparseDictionary d = new SaeLensProvider().create(DictionarySource.of(plain))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.LN2_NORMALIZED);
        }
    }

    @Test
    void aHookMlpInThatIsNotThePreMlpNormsOutputNeedsTheReadSite() {
        // TransformerLens's own hook_mlp_in is the residual before the pre-MLP norm: not guessed
        Path set = write(dir.resolve("tl"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 24, true, true),
                DType.F32, l -> cfg(l, "float32", "blocks.%d.hook_mlp_in", "model.layers.%d.resid_mid"));
        assertThatThrownBy(() -> new SaeLensProvider().create(DictionarySource.of(set)).close())
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                    assertThat(e.getMessage()).contains("hook_mlp_in", "not the output of the pre-MLP norm",
                            "readSite");
                });
        try (SparseDictionary d = new SaeLensProvider().create(new DictionarySource(set, false, true,
                Map.of("readSite", "hook_resid_mid")))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.RESID_MID);
        }
    }
}
