package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reference format reads and writes beyond the conformance rules: config keys, file lists, storage types. */
class ReferenceFormatTest {

    private static final ReferencePerLayerProvider PLT = new ReferencePerLayerProvider();
    private static final ReferenceCrossLayerProvider CLT = new ReferenceCrossLayerProvider();

    @TempDir
    Path dir;

    private NDManager manager;

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    private static int[] all(SparseDictionary d, int layer) {
        return IntStream.range(0, d.features(layer)).toArray();
    }

    @Test
    void everyConfigKeyRoundTrips() throws IOException {
        ReferenceConfig config = new ReferenceConfig(ModelKind.TRANSCODER_SET, SiteKind.LN2_NORMALIZED, SiteKind.MLP_OUT,
                Optional.of("google/gemma-2-2b"), List.of("a/layer_0.safetensors", "/abs/layer_1.safetensors"),
                Optional.of(new ActivationFunction.TopK(64)), Optional.of("org/repo//sub"), Optional.of("0123abc"));
        Files.writeString(dir.resolve("config.yaml"), config.toYaml());
        assertThat(ReferenceConfig.read(dir)).isEqualTo(config);
        ReferenceFormatWriter.writePerLayer(dir.resolve("written"), config, List.of()); // writes config.yaml only
        assertThat(ReferenceConfig.read(dir.resolve("written"))).isEqualTo(config.withStandardFileNames());
        assertThat(config.toYaml()).isEqualTo("""
                model_kind: transcoder_set
                model_name: google/gemma-2-2b
                feature_input_hook: ln2.hook_normalized
                feature_output_hook: hook_mlp_out
                transcoders:
                - a/layer_0.safetensors
                - /abs/layer_1.safetensors
                activation: topk
                k: 64
                scan: org/repo//sub
                revision: 0123abc
                """);
    }

    @Test
    void theFixtureConfigsAreReadAsWritten() {
        ReferenceConfig gemma = ReferenceConfig.read(SharedFixtures.resolve("tiny-transcoders/gemma2-plt-jumprelu"));
        assertThat(gemma).isEqualTo(new ReferenceConfig(ModelKind.TRANSCODER_SET, SiteKind.LN2_NORMALIZED,
                SiteKind.MLP_OUT, Optional.of("tiny-models/gemma2"), List.of(), Optional.empty(),
                Optional.of("tiny-transcoders/gemma2-plt-jumprelu"), Optional.empty()));
        try (SparseDictionary d = PLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/gemma2-plt-jumprelu")))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.JumpRelu()); // selected by the thresholds
            assertThat(d.readSites().get(3)).isEqualTo(HookSite.parse("blocks.3.ln2.hook_normalized"));
            assertThat(d.writeSites().get(0)).isEqualTo(HookSite.parse("blocks.0.hook_mlp_out"));
            assertThat(d.scan()).isEqualTo("tiny-transcoders/gemma2-plt-jumprelu");
        }
    }

    @Test
    void anExplicitReluWinsOverThresholdsAsInTheReference() {
        Path set = Directories.editConfig(Directories.copyOfFixture("gemma2-plt-jumprelu", dir.resolve("set")),
                c -> c + "activation: relu\n");
        try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
            assertThat(d.activation(2)).isEqualTo(new ActivationFunction.Relu());
            NDArray x = manager.randomNormal(new Shape(5, d.width()));
            float[] h = d.preActivations(manager, 2, x).toFloatArray();
            float[] a = d.encode(manager, 2, x, Set.of()).toFloatArray();
            for (int i = 0; i < h.length; i++) {
                assertThat(a[i]).isEqualTo(Math.max(h[i], 0f));
            }
        }
    }

    @Test
    void topKWithoutKFallsBackTo128ForTheOneRepositoryTheReferenceKnows() {
        ReferenceConfig config = SyntheticTranscoders.config(ModelKind.TRANSCODER_SET)
                .withActivation(new ActivationFunction.TopK(1)).withScan("facebook/crv-8b-instruct-transcoders");
        Path set = SyntheticTranscoders.perLayer(dir.resolve("crv"), config,
                new SyntheticTranscoders.Spec(1, 130, 4, DType.F32, false, false), 1);
        Directories.editConfig(set, c -> c.replace("k: 1\n", ""));
        try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.TopK(128));
        }
    }

    @Test
    void listedFilesAreReadInListOrderRelativeToTheDirectoryOrAbsolute() throws IOException {
        Path fixture = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        Path set = Directories.copyOfFixture("llama-plt-relu", dir.resolve("set"));
        Files.createDirectories(set.resolve("weights"));
        for (int layer = 0; layer < 4; layer++) { // layer i is stored as weights/w{3-i}
            Files.move(set.resolve("layer_" + layer + ".safetensors"),
                    set.resolve("weights/w" + (3 - layer) + ".safetensors"));
        }
        Directories.editConfig(set, c -> c + "transcoders: [weights/w3.safetensors, weights/w2.safetensors, "
                + set.resolve("weights/w1.safetensors") + ", ./weights/w0.safetensors]\n");
        try (SparseDictionary listed = PLT.create(DictionarySource.of(set));
             SparseDictionary standard = PLT.create(DictionarySource.of(fixture))) {
            for (int layer = 0; layer < 4; layer++) {
                assertThat(listed.encoderRows(manager, layer, all(listed, layer)).toFloatArray())
                        .containsExactly(standard.encoderRows(manager, layer, all(standard, layer)).toFloatArray());
                assertThat(listed.decoderBias(manager, layer).toFloatArray())
                        .containsExactly(standard.decoderBias(manager, layer).toFloatArray());
            }
        }
    }

    @Test
    void scanDefaultsToTheDirectorysAbsoluteNormalisedPath() {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                new SyntheticTranscoders.Spec(1, 4, 4, DType.F32, false, false), 1);
        // named relatively, with '..' segments: the scan is still the plain absolute path (what the reference writes
        // for local transcoders, and what makes its viewer load features from the serving server's /features/)
        Path roundabout = Path.of("").toAbsolutePath().relativize(set.toAbsolutePath()).resolve(".");
        assertThat(roundabout.isAbsolute()).isFalse();
        try (SparseDictionary d = PLT.create(DictionarySource.of(roundabout))) {
            assertThat(d.scan()).isEqualTo(set.toAbsolutePath().normalize().toString()).startsWith("/")
                    .doesNotContain("/./").doesNotContain("/../");
        }
        Path clt = SyntheticTranscoders.crossLayer(dir.resolve("clt"), SyntheticTranscoders.config(
                ModelKind.CROSS_LAYER_TRANSCODER), new SyntheticTranscoders.Spec(2, 4, 4, DType.F32, false, false), 1);
        try (SparseDictionary d = CLT.create(DictionarySource.of(dir.resolve("clt/../clt")))) {
            assertThat(d.scan()).isEqualTo(clt.toAbsolutePath().normalize().toString());
        }
    }

    @Test
    void halfPrecisionWeightsAreWidenedExactly() {
        var spec = new SyntheticTranscoders.Spec(2, 12, 8, DType.F32, true, true);
        Path f32 = SyntheticTranscoders.perLayer(dir.resolve("f32"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                spec, 7);
        for (DType half : List.of(DType.BF16, DType.F16)) {
            Path set = SyntheticTranscoders.perLayer(dir.resolve(half.name()),
                    SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                    new SyntheticTranscoders.Spec(2, 12, 8, half, true, true), 7);
            for (boolean lazy : List.of(true, false)) {
                try (SparseDictionary full = PLT.create(DictionarySource.of(f32));
                     SparseDictionary narrow = PLT.create(new DictionarySource(set, lazy, lazy, Map.of()))) {
                    for (int layer = 0; layer < 2; layer++) {
                        assertThat(narrow.decoderRows(manager, layer, all(narrow, layer), layer).toFloatArray())
                                .as("%s decoder rows, lazy %s", half, lazy)
                                .containsExactly(rounded(half, full.decoderRows(manager, layer, all(full, layer), layer)));
                        assertThat(narrow.encoderRows(manager, layer, all(narrow, layer)).toFloatArray())
                                .containsExactly(rounded(half, full.encoderRows(manager, layer, all(full, layer))));
                        assertThat(narrow.decoderBias(manager, layer).toFloatArray())
                                .containsExactly(rounded(half, full.decoderBias(manager, layer)));
                        NDArray eye = manager.eye(8);
                        assertThat(narrow.skip(layer).orElseThrow().apply(eye).toFloatArray()).as("the skip matrix")
                                .containsExactly(rounded(half, full.skip(layer).orElseThrow().apply(eye)));
                    }
                }
            }
        }
    }

    private static float[] rounded(DType half, NDArray values) {
        float[] v = values.toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = half == DType.BF16 ? HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v[i]))
                    : HalfFloats.f16ToFloat(HalfFloats.floatToF16(v[i]));
        }
        return v;
    }

    @Test
    void savingCopiesEveryTensorUnchangedUnderTheStandardNames() throws IOException {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET)
                        .withActivation(new ActivationFunction.Relu()).withScan("my/scan"),
                new SyntheticTranscoders.Spec(2, 6, 4, DType.BF16, true, false), 3);
        Files.move(set.resolve("layer_1.safetensors"), set.resolve("second.safetensors"));
        Directories.editConfig(set, c -> c + "transcoders: [layer_0.safetensors, second.safetensors]\n");
        Path copy = dir.resolve("copy");
        try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
            d.save(copy);
        }
        assertThat(ReferenceConfig.read(copy)).isEqualTo(ReferenceConfig.read(set).withStandardFileNames());
        try (SafetensorsFile original = SafetensorsFile.open(set.resolve("second.safetensors"));
             SafetensorsFile saved = SafetensorsFile.open(copy.resolve("layer_1.safetensors"))) {
            assertThat(saved.names()).containsExactlyInAnyOrderElementsOf(original.names())
                    .contains("activation_function.threshold"); // kept although 'activation: relu' ignores it
            for (String name : original.names()) {
                assertThat(saved.info(name).dtype()).isEqualTo(DType.BF16);
                assertThat(saved.bytes(name)).isEqualTo(original.bytes(name));
            }
            assertThat(saved.metadata()).containsEntry("format", "pt");
        }
    }

    @Test
    void theWriterRefusesADirectoryThatHoldsADictionary() {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                new SyntheticTranscoders.Spec(1, 4, 4, DType.F32, false, false), 1);
        try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
            assertThatThrownBy(() -> d.save(set)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("already holds a dictionary");
        }
    }

    @Test
    void capabilitiesFollowTheSourceAndTheWeights() {
        Path plain = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        try (SparseDictionary standard = PLT.create(DictionarySource.of(plain));
             SparseDictionary eager = PLT.create(new DictionarySource(plain, false, false, Map.of()));
             SparseDictionary lazy = PLT.create(new DictionarySource(plain, true, true, Map.of()));
             SparseDictionary skip = PLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/llama-plt-relu-skip")));
             SparseDictionary clt = CLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/llama-clt-relu")))) {
            assertThat(standard.capabilities()).containsExactlyInAnyOrder(DictionaryCapability.LAZY_DECODER,
                    DictionaryCapability.WRITABLE);
            assertThat(eager.capabilities()).containsExactly(DictionaryCapability.WRITABLE);
            assertThat(lazy.capabilities()).containsExactlyInAnyOrder(DictionaryCapability.LAZY_DECODER,
                    DictionaryCapability.LAZY_ENCODER, DictionaryCapability.WRITABLE);
            assertThat(skip.capabilities()).contains(DictionaryCapability.SKIP_CONNECTION);
            assertThat(clt.capabilities()).contains(DictionaryCapability.CROSS_LAYER)
                    .doesNotContain(DictionaryCapability.SKIP_CONNECTION);
            assertThat(clt.outputLayers(1)).containsExactly(1, 2, 3);
        }
    }

    @Test
    void zeroedPositionsBeyondTheSequenceAreIgnoredAndNegativeOnesRejected() {
        try (SparseDictionary d = PLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/qwen3-plt-relu")))) {
            NDArray x = manager.randomNormal(new Shape(3, d.width()));
            // Gemma-3-it zeroes positions 0..3; a 3-token input has only 0..2
            assertThat(d.encode(manager, 0, x, Set.of(0, 1, 2, 3)).toFloatArray()).containsOnly(0f);
            assertThatThrownBy(() -> d.encode(manager, 0, x, Set.of(-1))).isInstanceOf(CircuitTracerException.class)
                    .hasMessageContaining("Zeroed position -1");
        }
    }

    @Test
    void theCallersArraysAreNeitherChangedNorTakenOver() {
        try (SparseDictionary d = PLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/llama-plt-relu")));
             NDManager caller = manager.newSubManager()) {
            NDArray x = caller.randomNormal(new Shape(4, d.width()));
            float[] before = x.toFloatArray();
            NDArray a = d.encode(caller, 1, x, Set.of(0));
            NDArray y = d.decode(caller, 1, List.of(d.encodeSparse(caller, 1, x, Set.of(0))), x);
            assertThat(x.toFloatArray()).containsExactly(before);
            assertThat(a.getManager()).isSameAs(caller);
            assertThat(y.getManager()).isSameAs(caller);
            assertThat(x.getManager()).isSameAs(caller);
        }
    }

    @Test
    void aClosedDictionaryRefusesWork() {
        SparseDictionary d = CLT.create(DictionarySource.of(SharedFixtures.resolve("tiny-transcoders/llama-clt-relu")));
        d.close();
        d.close(); // idempotent
        assertThatThrownBy(() -> d.encoderRows(manager, 0, new int[] {1})).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
