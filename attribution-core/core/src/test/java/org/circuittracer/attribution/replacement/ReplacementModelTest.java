package org.circuittracer.attribution.replacement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.attribution.ForwardingModel;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ReplacementModelTest {

    static Stream<TinyFixtures.Pair> pairs() {
        return TinyFixtures.PAIRS.stream();
    }

    @Test
    void aDictionaryForAnotherLayerCountIsIncompatible() {
        try (TransformerModel gpt2 = TinyFixtures.openModel("gpt2");
             SparseDictionary llama = TinyFixtures.openDictionary("llama-plt-relu")) {
            assertThatThrownBy(() -> ReplacementModel.of(gpt2, llama))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INCOMPATIBLE_INPUTS))
                    .hasMessageContaining("has 4 layers").hasMessageContaining("has 3");
        }
    }

    @Test
    void aDictionaryForAnotherWidthIsIncompatible() {
        try (TransformerModel llama = TinyFixtures.openModel("llama");
             SparseDictionary gemma = TinyFixtures.openDictionary("gemma2-plt-jumprelu")) {
            assertThatThrownBy(() -> ReplacementModel.of(llama, gemma))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INCOMPATIBLE_INPUTS))
                    .hasMessageContaining("width 48").hasMessageContaining("residual width 64");
        }
    }

    @Test
    void aModelWithoutTheDictionarysSitesIsIncompatible() {
        try (TransformerModel gemma = new ForwardingModel(TinyFixtures.openModel("gemma2")) {
                @Override
                public List<HookSite> sites() {
                    return model.sites().stream().filter(s -> s.kind() != SiteKind.LN2_NORMALIZED).toList();
                }
             };
             SparseDictionary dictionary = TinyFixtures.openDictionary("gemma2-plt-jumprelu")) {
            assertThatThrownBy(() -> ReplacementModel.of(gemma, dictionary))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INCOMPATIBLE_INPUTS))
                    .hasMessageContaining("blocks.0.ln2.hook_normalized").hasMessageContaining("hook_mlp_out");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void activationsAreTheReferenceActivationsWithPositionZeroZeroed(TinyFixtures.Pair pair) {
        try (TransformerModel model = TinyFixtures.openModel(pair.model());
             SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary());
             NDManager manager = NDManager.newBaseManager();
             SafetensorsFile reference = SafetensorsFile.open(
                     TinyFixtures.dictionaryDirectory(pair.dictionary()).resolve("reference_activations.safetensors"))) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            for (int k = 0; k < 3; k++) {
                TokenSequence tokens = TinyFixtures.prompt(pair.model(), k);
                ReplacementActivations activations = replacement.activations(manager, tokens);
                assertThat(activations.zeroedPositions()).containsExactly(0);
                for (int layer = 0; layer < model.config().layers(); layer++) {
                    float[] expected = reference.readFloats("p" + k + ".layer" + layer + ".activations");
                    int features = dictionary.features(layer);
                    float[] dense = new float[expected.length];
                    SparseActivations code = activations.features().get(layer);
                    for (int e = 0; e < code.size(); e++) {
                        dense[code.positionAt(e) * features + code.featureAt(e)] = code.valueAt(e);
                    }
                    for (int i = 0; i < expected.length; i++) {
                        float want = i < features ? 0f : expected[i]; // position 0 is zeroed
                        assertThat(dense[i]).as("prompt %d layer %d entry %d", k, layer, i)
                                .isCloseTo(want, within(1e-4f * Math.max(1f, Math.abs(want))));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void errorsAreWhatTheDecoderMissesAndZeroAtPositionZero(TinyFixtures.Pair pair) {
        try (TransformerModel model = TinyFixtures.openModel(pair.model());
             SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary());
             NDManager manager = NDManager.newBaseManager()) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            TokenSequence tokens = TinyFixtures.prompt(pair.model(), 1);
            List<HookSite> sites = replacement.recordedSites();
            var clean = model.forward(manager, tokens, sites.stream()
                    .<org.circuittracer.spi.model.Hook>map(org.circuittracer.spi.model.Hook.Capture::new).toList());
            ReplacementActivations activations = replacement.activations(manager, tokens);
            int d = model.config().modelWidth();
            for (int m = 0; m < model.config().layers(); m++) {
                // the reconstruction by hand: b_dec + skip(x) + Σ over every source layer writing to m of a · W_dec
                NDArray x = clean.capturedAt(HookSite.of(dictionary.readSite(), m));
                NDArray reconstruction = dictionary.decoderBias(manager, m).reshape(1, d).repeat(0, tokens.length());
                if (dictionary.skip(m).isPresent()) {
                    reconstruction = reconstruction.add(dictionary.skip(m).get().apply(x));
                }
                float[] byHand = reconstruction.toFloatArray();
                for (int source = 0; source <= m; source++) {
                    final int output = m;
                    boolean writes = java.util.Arrays.stream(dictionary.outputLayers(source)).anyMatch(o -> o == output);
                    if (!writes) {
                        continue;
                    }
                    SparseActivations code = activations.features().get(source);
                    for (int e = 0; e < code.size(); e++) {
                        float[] row = dictionary.decoderRows(manager, source, new int[] {code.featureAt(e)}, m)
                                .toFloatArray();
                        for (int j = 0; j < d; j++) {
                            byHand[code.positionAt(e) * d + j] += code.valueAt(e) * row[j];
                        }
                    }
                }
                float[] y = clean.capturedAt(HookSite.of(dictionary.writeSite(), m)).toFloatArray();
                float[] error = activations.errors().get(m).toFloatArray();
                for (int i = 0; i < error.length; i++) {
                    float want = i < d ? 0f : y[i] - byHand[i];
                    assertThat(error[i]).as("layer %d entry %d", m, i).isCloseTo(want, within(1e-4f));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void tokenVectorsAreWhatEntersTheResidualAndLogitsAreTheModels(TinyFixtures.Pair pair) {
        try (TransformerModel model = TinyFixtures.openModel(pair.model());
             SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary());
             NDManager manager = NDManager.newBaseManager();
             SafetensorsFile golden = SafetensorsFile.open(
                     TinyFixtures.modelDirectory(pair.model()).resolve("golden.safetensors"))) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            TokenSequence tokens = TinyFixtures.prompt(pair.model(), 2);
            ReplacementActivations activations = replacement.activations(manager, tokens);
            assertClose(activations.logits().toFloatArray(), golden.readFloats("p2.logits"), 1e-4f);
            float[] residual = golden.readFloats("p2.layers.0.resid_pre");
            float[] tokenVectors = activations.tokenVectors().toFloatArray();
            if (pair.model().equals("gpt2")) {
                // GPT-2 adds learned positions after hook_embed: the token vector is the wte row alone
                try (SafetensorsFile weights = SafetensorsFile.open(
                        TinyFixtures.modelDirectory("gpt2").resolve("model.safetensors"))) {
                    assertClose(tokenVectors, weights.gatherRows("transformer.wte.weight", tokens.ids()), 1e-6f);
                }
            } else {
                // Gemma's √d scaling included
                assertClose(tokenVectors, residual, 1e-5f);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void theLinearisationsRecordedValuesGiveTheSameActivations(TinyFixtures.Pair pair) {
        try (TransformerModel model = TinyFixtures.openModel(pair.model());
             SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary());
             NDManager manager = NDManager.newBaseManager()) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            TokenSequence tokens = TinyFixtures.prompt(pair.model(), 0);
            ReplacementActivations direct = replacement.activations(manager, tokens);
            try (LinearizedModel linear = model.linearize(manager, tokens, replacement.linearizationSpec())) {
                ReplacementActivations recorded = replacement.activations(manager, tokens, linear.clean());
                assertThat(recorded.features()).isEqualTo(direct.features());
                assertClose(recorded.errors().toFloatArray(), direct.errors().toFloatArray(), 1e-6f);
                assertClose(recorded.logits().toFloatArray(), direct.logits().toFloatArray(), 1e-6f);
            }
            assertThat(direct.active().size()).isEqualTo(direct.features().stream().mapToInt(SparseActivations::size).sum());
        }
    }

    private static void assertClose(float[] actual, float[] expected, float tolerance) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            assertThat(actual[i]).as("entry %d", i).isCloseTo(expected[i],
                    within(tolerance * Math.max(1f, Math.abs(expected[i]))));
        }
    }
}
