package org.circuittracer.transcoders.saelens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.SameComputation;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SAELens transcoders compute what the same weights compute in the reference format; what is not read is refused. */
class SaeLensTest {

    @TempDir
    Path dir;

    /** SAELens 5: hooks at the top level, TopK as {@code activation_fn_str} with {@code activation_fn_kwargs}. */
    static void version5TopK(int layer, ObjectNode cfg) {
        cfg.remove("metadata");
        cfg.remove("reshape_activations");
        cfg.put("hook_name", "blocks." + layer + ".ln2.hook_normalized").put("hook_layer", layer)
                .put("hook_name_out", "blocks." + layer + ".hook_mlp_out").putNull("hook_head_index")
                .put("activation_fn_str", "topk").put("apply_b_dec_to_input", false)
                .putObject("activation_fn_kwargs").put("k", 4);
    }

    @Test
    void jumpReluTranscodersComputeWhatTheReferenceFormatComputesWithNegativeThresholdsAtZero() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 5, true, false);
        float[] theta = weights.layers().get(0).threshold().orElseThrow();
        assertThat(java.util.stream.IntStream.range(0, theta.length).anyMatch(i -> theta[i] < 0))
                .as("the weights test the clamp").isTrue();
        Path saeLens = FormatWriters.saeLens(dir.resolve("saelens"), weights, "jumprelu_transcoder", (l, c) -> { });
        // SAELens computes ReLU(h)·[h > θ], which is the reference's JumpReLU with threshold max(θ, 0)
        TranscoderWeights clamped = new TranscoderWeights(32, 16, weights.layers().stream().map(l ->
                new TranscoderWeights.Layer(l.wEnc(), l.bEnc(), l.wDec(), l.bDec(), l.threshold().map(t -> {
                    float[] c = t.clone();
                    for (int i = 0; i < c.length; i++) {
                        c[i] = Math.max(c[i], 0f);
                    }
                    return c;
                }), l.wSkip())).toList());
        assertSameAsReference(saeLens, clamped, Optional.empty(), true);
    }

    @Test
    void skipTranscodersComputeWhatTheReferenceFormatComputes() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 6, false, true);
        Path saeLens = FormatWriters.saeLens(dir.resolve("saelens"), weights, "skip_transcoder", (l, c) -> { });
        try (SparseDictionary d = open(saeLens)) {
            assertThat(d.capabilities()).contains(DictionaryCapability.SKIP_CONNECTION,
                    DictionaryCapability.LAZY_DECODER);
            assertThat(d.readSite()).isEqualTo(SiteKind.LN2_NORMALIZED);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT);
        }
        assertSameAsReference(saeLens, weights, Optional.empty(), true);
    }

    @Test
    void topKTranscodersAreReluAfterTopKAndAgreeWithTopKWhenEnoughFeaturesArePositive() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 7, false, false);
        Path saeLens = FormatWriters.saeLens(dir.resolve("saelens"), weights, "topk", (l, cfg) -> cfg.put("k", 2));
        try (SparseDictionary d = open(saeLens)) {
            assertThat(d.activation(0)).isEqualTo(Nonlinearity.ReluTopK.function(2));
        }
        assertSameAsReference(saeLens, weights, Optional.of(new ActivationFunction.TopK(2)), false);
    }

    @Test
    void logThresholdsAreExponentiated() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 8, true, false);
        Path saeLens = FormatWriters.saeLens(dir.resolve("saelens"), weights, "jumprelu_transcoder", (l, c) -> { });
        for (int layer = 0; layer < 3; layer++) {
            TranscoderWeights.Layer l = weights.layers().get(layer);
            float[] log = l.threshold().orElseThrow().clone();
            for (int i = 0; i < log.length; i++) {
                log[i] = (float) Math.log(Math.max(log[i], 1e-3f));
            }
            new SafetensorsWriter()
                    .addFloats("W_enc", new long[] {16, 32}, TranscoderWeights.transpose(l.wEnc(), 32, 16))
                    .addFloats("b_enc", new long[] {32}, l.bEnc()).addFloats("W_dec", new long[] {32, 16}, l.wDec())
                    .addFloats("b_dec", new long[] {16}, l.bDec()).addFloats("log_threshold", new long[] {32}, log)
                    .write(saeLens.resolve("blocks." + layer + ".ln2.hook_normalized/sae_weights.safetensors"));
        }
        TranscoderWeights exponentiated = new TranscoderWeights(32, 16, weights.layers().stream().map(l ->
                new TranscoderWeights.Layer(l.wEnc(), l.bEnc(), l.wDec(), l.bDec(), l.threshold().map(t -> {
                    float[] c = t.clone();
                    for (int i = 0; i < c.length; i++) {
                        c[i] = (float) Math.exp((float) Math.log(Math.max(c[i], 1e-3f)));
                    }
                    return c;
                }), l.wSkip())).toList());
        assertSameAsReference(saeLens, exponentiated, Optional.empty(), true);
    }

    @Test
    void whatIsNotReadIsRefusedWithTheReason() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 9, true, false);
        expectWith(weights, "jumprelu", (l, cfg) -> {
            cfg.remove("d_out");
            ((ObjectNode) cfg.get("metadata")).remove("hook_name_out");
        }, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "is a plain SAE", "Only SAELens transcoders are read");
        expectWith(weights, "standard", (l, cfg) -> cfg.put("activation_fn_str", "topk").put("apply_b_dec_to_input",
                true).putObject("activation_fn_kwargs").put("k", 3), StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                "apply_b_dec_to_input: true");
        expectWith(weights, "gated", (l, cfg) -> { }, StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                "architecture 'gated'");
        expectWith(weights, "standard", (l, cfg) -> cfg.put("activation_fn_str", "tanh-relu"),
                StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "activation function 'tanh-relu'");
        expectWith(weights, "jumprelu_transcoder", (l, cfg) -> cfg.put("d_out", 8),
                StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "d_in = 16 but d_out = 8");
        expectWith(weights, "jumprelu_transcoder", (l, cfg) -> cfg.put("normalize_activations",
                "expected_average_only_in"), StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "normalize_activations");
        expectWith(weights, "topk", (l, cfg) -> { }, StandardErrorCode.MALFORMED_FILE, "TopK transcoder without k");
    }

    @Test
    void badSetsFailNamingTheFileAndWhatIsWrong() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 10, true, false);
        expectWith(weights, "jumprelu_transcoder", (l, cfg) -> cfg.put("d_sae", 31), StandardErrorCode.MALFORMED_FILE,
                "sae_weights.safetensors has W_dec [32, 16]; expected [31, 16]");
        expectWith(weights, "jumprelu_transcoder", (l, cfg) -> {
            if (l == 2) {
                ((ObjectNode) cfg.get("metadata")).put("hook_name_out", "blocks.2.mlp.hook_out");
            }
        }, StandardErrorCode.MALFORMED_FILE, "every layer of a dictionary reads and writes the same sites");
        // hook_mlp_in is the MLP input (SAELens's GemmaScope 2 spelling) unless its Hugging Face hook says otherwise
        expectWith(weights, "jumprelu_transcoder", (l, cfg) -> ((ObjectNode) cfg.get("metadata"))
                        .put("hook_name", "blocks." + l + ".hook_mlp_in")
                        .put("hf_hook_name", "model.layers." + l + ".input_layernorm.input"),
                StandardErrorCode.MALFORMED_FILE, "hook_name 'blocks.0.hook_mlp_in'", "pass the option readSite");

        Path set = FormatWriters.saeLens(dir.resolve("gap"), weights, "jumprelu_transcoder", (l, c) -> { });
        FormatWriters.delete(set.resolve("blocks.1.ln2.hook_normalized/sae_weights.safetensors"));
        expect(() -> open(set), StandardErrorCode.FILE_NOT_FOUND, "blocks.1.ln2.hook_normalized/sae_weights");
        FormatWriters.delete(set.resolve("blocks.1.ln2.hook_normalized/cfg.json"));
        expect(() -> open(set), StandardErrorCode.MALFORMED_FILE, "layer 1 has none");
        expect(() -> open(set.resolve("blocks.2.ln2.hook_normalized")), StandardErrorCode.INVALID_ARGUMENT,
                "single SAELens transcoder (layer 2)");

        TranscoderWeights withNan = TranscoderWeights.random(3, 32, 16, 10, true, false);
        withNan.layers().get(1).threshold().orElseThrow()[7] = Float.NaN;
        Path nan = FormatWriters.saeLens(dir.resolve("nan"), withNan, "jumprelu_transcoder", (l, c) -> { });
        expect(() -> open(nan), StandardErrorCode.MALFORMED_FILE, "threshold of feature 7 is NaN");
    }

    @Test
    void optionsNameSitesTheConfigsSpellDifferently() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 11, false, false);
        Path set = FormatWriters.saeLens(dir.resolve("set"), weights, "transcoder", (l, cfg) ->
                ((ObjectNode) cfg.get("metadata")).put("hook_name", "blocks." + l + ".hook_mlp_in"));
        try (SparseDictionary d = new SaeLensProvider().create(new DictionarySource(set, false, true,
                Map.of("readSite", "hook_resid_mid")))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.RESID_MID);
            assertThat(d.layers()).isEqualTo(3);
        }
    }

    private void assertSameAsReference(Path saeLens, TranscoderWeights weights, Optional<ActivationFunction> activation,
                                       boolean sameActivation) {
        Path reference = FormatWriters.reference(dir.resolve("reference"), weights, SiteKind.LN2_NORMALIZED,
                SiteKind.MLP_OUT, activation);
        try (SparseDictionary expected = new ReferencePerLayerProvider().create(DictionarySource.of(reference));
             SparseDictionary actual = open(saeLens)) {
            SameComputation.assertSame(expected, actual, sameActivation);
        }
    }

    private void expectWith(TranscoderWeights weights, String architecture, BiConsumer<Integer, ObjectNode> edit,
                            ErrorCode code, String... fragments) {
        Path set = FormatWriters.saeLens(dir.resolve("case-" + counter++), weights, architecture, edit);
        expect(() -> open(set), code, fragments);
    }

    private int counter;

    private static SparseDictionary open(Path directory) {
        return new SaeLensProvider().create(DictionarySource.of(directory));
    }

    private static void expect(ThrowableAssert.ThrowingCallable call, ErrorCode code, String... fragments) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
            assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code);
            for (String fragment : fragments) {
                assertThat(e.getMessage()).contains(fragment);
            }
        });
    }
}
