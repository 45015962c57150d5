package org.circuittracer.transcoders.gemmascope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.community.DirectComputation;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GemmaScope 2 transcoders as Google publishes them, run on the tiny Gemma 3's MLP inputs (first golden prompt)
 * against Google's own computation written out: {@code h = x @ w_enc + b_enc}, {@code (h > θ)·ReLU(h)},
 * {@code a @ w_dec + b_dec + x @ affine_skip_connection}.
 */
class GemmaScope2Test {

    private static final int LAYERS = 4;
    private static final int WIDTH = 56;
    private static final int FEATURES = 96;

    @TempDir
    Path dir;

    static DirectComputation direct(Path set, int layer, boolean affine) {
        Path file = set.resolve("layer_" + layer + "_width_16k_l0_small" + (affine ? "_affine" : "")
                + "/params.safetensors");
        return new DirectComputation(FEATURES, WIDTH,
                TranscoderWeights.transpose(DirectComputation.stored(file, "w_enc"), WIDTH, FEATURES),
                DirectComputation.stored(file, "b_enc"), DirectComputation.stored(file, "w_dec"),
                DirectComputation.stored(file, "b_dec"), Optional.of(DirectComputation.stored(file, "threshold")),
                Optional.empty(), affine ? Optional.of(TranscoderWeights.transpose(DirectComputation.stored(file,
                "affine_skip_connection"), WIDTH, WIDTH)) : Optional.empty(), false);
    }

    static void assertComputesAsGoogle(Path set, boolean affine) {
        try (SparseDictionary d = new GemmaScope2Provider().create(DictionarySource.of(set))) {
            assertThat(d.layers()).isEqualTo(LAYERS);
            assertThat(d.readSite()).isEqualTo(SiteKind.MLP_IN);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT);
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.JumpRelu());
            assertThat(d.skip(0).isPresent()).isEqualTo(affine);
            for (int layer = 0; layer < LAYERS; layer++) {
                int[] tokens = new int[1];
                float[] x = DirectComputation.golden("gemma3", "p0.layers." + layer + ".mlp_in", tokens);
                direct(set, layer, affine).assertAgrees(d, layer, x, tokens[0]);
            }
        }
    }

    @Test
    void affineTranscodersComputeAsGooglesCodeWithTheSkipMatrixUntransposed() {
        Path set = FormatWriters.gemmaScope2(dir.resolve("affine"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH,
                31, true, true), DType.F32, (l, c) -> { });
        assertThat(new GemmaScope2Provider().recognize(set).matches()).isTrue();
        assertComputesAsGoogle(set, true);
    }

    @Test
    void plainTranscodersInBfloat16ComputeAsStored() {
        Path set = FormatWriters.gemmaScope2(dir.resolve("plain"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH,
                32, true, false), DType.BF16, (l, c) -> { });
        assertComputesAsGoogle(set, false);
    }

    @Test
    void whatIsNotATranscoderSetIsRefused() {
        TranscoderWeights weights = TranscoderWeights.random(2, 8, 4, 33, true, true);
        Path sae = FormatWriters.gemmaScope2(dir.resolve("sae"), weights, DType.F32, (l, c) -> c
                .put("hf_hook_point_in", "model.layers." + l + ".output").remove("hf_hook_point_out"));
        expect(sae, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "no hf_hook_point_out", "sparse autoencoder");
        Path other = FormatWriters.gemmaScope2(dir.resolve("other"), weights, DType.F32, (l, c) -> c
                .put("hf_hook_point_in", "model.layers." + l + ".input_layernorm.input"));
        expect(other, StandardErrorCode.INVALID_ARGUMENT, "hf_hook_point_in 'model.layers.0.input_layernorm.input'",
                "readSite");
        try (SparseDictionary d = new GemmaScope2Provider().create(new DictionarySource(other, false, true,
                Map.of("readSite", "hook_resid_mid")))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.RESID_MID);
        }
        Path skewed = FormatWriters.gemmaScope2(dir.resolve("skewed"), weights, DType.F32, (l, c) -> c
                .put("hf_hook_point_out", "model.layers." + (l + 1) + ".post_feedforward_layernorm.output"));
        expect(skewed, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "reads layer 0", "writes layer 1");
        Path missingSkip = FormatWriters.gemmaScope2(dir.resolve("missing-skip"), weights, DType.F32, (l, c) -> { });
        FormatWriters.writeString(missingSkip.resolve("layer_1_width_16k_l0_small_affine/config.json"),
                "{\"architecture\": \"jump_relu\", \"hf_hook_point_in\": \"model.layers.1.pre_feedforward_layernorm"
                        + ".output\", \"hf_hook_point_out\": \"model.layers.1.post_feedforward_layernorm.output\"}");
        expect(missingSkip, StandardErrorCode.MALFORMED_FILE, "unexpected tensor [affine_skip_connection]");
        expect(missingSkip.resolve("layer_0_width_16k_l0_small_affine"), StandardErrorCode.INVALID_ARGUMENT,
                "single GemmaScope 2 transcoder (layer 0)");

        // a cross-layer transcoder's decoder [F, L, d]
        Path clt = dir.resolve("clt");
        FormatWriters.createDirectories(clt.resolve("layer_0_width_16k_l0_medium"));
        FormatWriters.writeString(clt.resolve("layer_0_width_16k_l0_medium/config.json"), "{\"architecture\": "
                + "\"jump_relu\", \"hf_hook_point_in\": \"model.layers.0.pre_feedforward_layernorm.output\", "
                + "\"hf_hook_point_out\": \"model.layers.0.post_feedforward_layernorm.output\", \"affine_connection\": "
                + "false}");
        new SafetensorsWriter().addFloats("w_enc", new long[] {4, 8}, new float[32])
                .addFloats("w_dec", new long[] {8, 2, 4}, new float[64]).addFloats("b_enc", new long[] {8}, new float[8])
                .addFloats("b_dec", new long[] {4}, new float[4]).addFloats("threshold", new long[] {8}, new float[8])
                .write(clt.resolve("layer_0_width_16k_l0_medium/params.safetensors"));
        expect(clt, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "cross-layer transcoder");
        assertThatThrownBy(() -> new GemmaScope2Provider().create(DictionarySource.of(clt)))
                .hasMessageStartingWith("unsupported format: ");
    }

    private static void expect(Path set, ErrorCode code, String... fragments) {
        assertThatThrownBy(() -> new GemmaScope2Provider().create(DictionarySource.of(set)).close())
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code);
                    for (String fragment : fragments) {
                        assertThat(e.getMessage()).contains(fragment);
                    }
                });
    }
}
