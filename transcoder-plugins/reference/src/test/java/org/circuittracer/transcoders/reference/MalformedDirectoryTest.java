package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.ModelKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every way a reference directory can be wrong gives a CircuitTracerException naming the file and the field. */
class MalformedDirectoryTest {

    private static final DictionaryFormatProvider PLT = new ReferencePerLayerProvider();
    private static final DictionaryFormatProvider CLT = new ReferenceCrossLayerProvider();
    private static final SyntheticTranscoders.Spec SMALL = new SyntheticTranscoders.Spec(2, 10, 6, DType.F32, false, false);
    private static final SyntheticTranscoders.Spec JUMP_RELU = new SyntheticTranscoders.Spec(2, 10, 6, DType.F32, true,
            false);

    @TempDir
    Path dir;

    private static void assertError(ThrowableAssert.ThrowingCallable call, StandardErrorCode code, String... parts) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code)).hasMessageContainingAll(parts);
    }

    private static void assertUnreadable(DictionaryFormatProvider provider, Path dir, StandardErrorCode code,
                                         String... parts) {
        assertError(() -> provider.create(DictionarySource.of(dir)).close(), code, parts);
    }

    private Path pltFixture() {
        return Directories.copyOfFixture("llama-plt-relu", dir.resolve("set"));
    }

    // ---------------------------------------------------------------- files

    @Test
    void aDirectoryWithoutConfigIsNotRecognizedAndNotReadable() {
        Path set = pltFixture();
        Directories.delete(set.resolve("config.yaml"));
        assertThat(PLT.recognize(set).matches()).isFalse();
        assertUnreadable(PLT, set, StandardErrorCode.FILE_NOT_FOUND, set.toString(), "has no config.yaml");
    }

    @Test
    void layersMustBeContiguousFromZero() {
        Path set = pltFixture();
        Directories.delete(set.resolve("layer_2.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "contiguous from 0", "layer_2.safetensors is missing");
        Directories.delete(set.resolve("layer_0.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_0.safetensors, layer_2.safetensors are missing");
    }

    @Test
    void aDirectoryWithoutLayerFilesIsAMissingFile() {
        Path set = pltFixture();
        for (int layer = 0; layer < 4; layer++) {
            Directories.delete(set.resolve("layer_" + layer + ".safetensors"));
        }
        assertUnreadable(PLT, set, StandardErrorCode.FILE_NOT_FOUND, "has no layer_0.safetensors");
    }

    @Test
    void aListedFileMustExistAndBeLocalSafetensors() {
        Path set = Directories.editConfig(pltFixture(), c -> c + "transcoders: [layer_0.safetensors, sub/nope.safetensors]\n");
        assertUnreadable(PLT, set, StandardErrorCode.FILE_NOT_FOUND, "transcoders[1] = 'sub/nope.safetensors'",
                "does not exist");
        Directories.editConfig(set, c -> c.replace("sub/nope.safetensors", "hf://org/repo/layer_1.safetensors"));
        String property = org.circuittracer.hub.HubCache.PROPERTY_PREFIX + "HF_HUB_CACHE";
        System.setProperty(property, dir.resolve("no-cache").toString());
        try {
            assertUnreadable(PLT, set, StandardErrorCode.FILE_NOT_FOUND,
                    "transcoders[1] = 'hf://org/repo/layer_1.safetensors'", "must be downloaded",
                    "huggingface-cli download org/repo layer_1.safetensors");
        } finally {
            System.clearProperty(property);
        }
        Directories.editConfig(set, c -> c.replace("hf://org/repo/layer_1.safetensors", "s3://bucket/layer_1.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "transcoders[1]", "remote reference");
        Directories.editConfig(set, c -> c.replace("s3://bucket/layer_1.safetensors", "hf://org/layer_1.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "transcoders[1]", "hf://ORG/REPO/PATH");
        Directories.editConfig(set, c -> c.replace("hf://org/layer_1.safetensors", "hf://org/repo/layer_1.safetensors"));
        Directories.editConfig(set, c -> c.replace("hf://org/repo/layer_1.safetensors", "layer_1.npz"));
        assertThat(PLT.recognize(set).matches()).as("GemmaScope .npz lists are another format's").isFalse();
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "'layer_1.npz' is not a safetensors file");
    }

    @Test
    void aLayerFileThatIsNotSafetensorsNamesTheFile() throws Exception {
        Path set = pltFixture();
        Files.writeString(set.resolve("layer_1.safetensors"), "version https://git-lfs.github.com/spec/v1\n");
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors", "Git LFS pointer");
    }

    // ---------------------------------------------------------------- config.yaml

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "model_kind: transcoder_set|model_kind: sparse_autoencoder|model_kind is 'sparse_autoencoder'; expected transcoder_set",
        "feature_input_hook: hook_resid_mid|feature_input_hook: hook_mlp_out|feature_input_hook is 'hook_mlp_out', which is not a transcoder input site; use one of hook_resid_mid, ln2.hook_normalized, mlp.hook_in",
        "feature_input_hook: hook_resid_mid|feature_input_hook: blocks.0.hook_resid_mid|'blocks.0.hook_resid_mid', which is not a transcoder input site",
        "feature_output_hook: mlp.hook_out|feature_output_hook: hook_resid_post|feature_output_hook is 'hook_resid_post', which is not a transcoder output site; use one of hook_mlp_out, mlp.hook_out",
        "feature_input_hook: hook_resid_mid|feature_input_hook: [hook_resid_mid]|feature_input_hook must be a single value, got a list",
        "feature_output_hook: mlp.hook_out|feature_output_hook:|feature_output_hook is missing; it is required",
        "feature_output_hook: mlp.hook_out|feature_output_hook: null|feature_output_hook is missing; it is required",
        "scan: tiny-transcoders/llama-plt-relu|scan: {repo: x}|scan must be a single value, got a mapping",
        "activation: relu|activation: gelu|activation is 'gelu'; use relu, topk (with k) or jumprelu",
        "activation: relu|activation: topk|k is missing",
        "activation: relu|activation: topk\\nk: two|k must be a whole number >= 1, got 'two'",
        "activation: relu|activation: topk\\nk: 0|k must be a whole number >= 1, got '0'",
        "activation: relu|activation: relu\\nk: 8|k is only used with 'activation: topk'",
        "activation: relu|transcoders: layer_0.safetensors|transcoders must be a non-empty list of file paths",
        "activation: relu|transcoders: [layer_0.safetensors, [x]]|entry 1 is a list",
        "activation: relu|activation: relu\\nactivation: topk|Duplicate field 'activation'",
        "activation: relu|activation: [relu|not valid YAML",
        "model_name: tiny-models/llama|model_name: [a, b]|model_name must be a single value",
    })
    void configErrorsNameTheFileAndTheKey(String from, String to, String message) {
        Path set = Directories.editConfig(pltFixture(), c -> c.replace(from, to.replace("\\n", "\n")));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, set.resolve("config.yaml").toString(), message);
    }

    @Test
    void aConfigThatIsNotAMappingIsMalformed() throws Exception {
        Path set = pltFixture();
        Files.writeString(set.resolve("config.yaml"), "- just\n- a list\n");
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "is not a YAML mapping");
    }

    @Test
    void eachKindIsReadByItsOwnFormat() {
        Path clt = Directories.copyOfFixture("llama-clt-relu", dir.resolve("clt"));
        assertThat(PLT.recognize(clt).matches()).isFalse();
        assertThat(CLT.recognize(clt).matches()).isTrue();
        assertUnreadable(PLT, clt, StandardErrorCode.INVALID_ARGUMENT, "model_kind: cross_layer_transcoder",
                "read it with the 'reference-clt' format");
        assertUnreadable(CLT, pltFixture(), StandardErrorCode.INVALID_ARGUMENT, "'reference-plt' format");
    }

    @Test
    void unknownOptionsAndBadTopKValuesAreRejected() {
        Path set = pltFixture();
        assertError(() -> PLT.create(new DictionarySource(set, false, true, Map.of("dtype", "bf16"))),
                StandardErrorCode.INVALID_ARGUMENT, "Unknown option [dtype] for the reference-plt format",
                "it takes only topk");
        for (String k : List.of("0", "-3", "many", "")) {
            assertError(() -> PLT.create(new DictionarySource(set, false, true, Map.of("topk", k))),
                    StandardErrorCode.INVALID_ARGUMENT, "Option topk=" + k + " (--topk) must be a whole number >= 1");
        }
    }

    @Test
    void topKNeedsAtLeastKFeatures() {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("topk"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET)
                .withActivation(new ActivationFunction.TopK(11)), SMALL, 1);
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_0.safetensors: b_enc [10]",
                "TopK with k = 11 needs at least k features");
    }

    // ---------------------------------------------------------------- tensors

    /** Writes {@code spec} with layer {@code broken} replaced by tensors from {@code edit}. */
    private Path perLayerWith(SyntheticTranscoders.Spec spec, int broken,
                              UnaryOperator<ReferenceFormatWriter.PerLayerTensors> edit) {
        List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>(SyntheticTranscoders.perLayerTensors(spec, 5));
        layers.set(broken, edit.apply(layers.get(broken)));
        ReferenceFormatWriter.writePerLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                layers);
        return dir.resolve("set");
    }

    private Path perLayerWith(int broken, UnaryOperator<ReferenceFormatWriter.PerLayerTensors> edit) {
        return perLayerWith(SMALL, broken, edit);
    }

    private static ReferenceFormatWriter.PerLayerTensors withDecoder(ReferenceFormatWriter.PerLayerTensors t, Tensor wDec) {
        return new ReferenceFormatWriter.PerLayerTensors(t.wEnc(), t.bEnc(), wDec, t.bDec(), t.threshold(), t.wSkip());
    }

    @Test
    void aNanThresholdIsNamed() {
        float[] theta = new float[10];
        theta[7] = Float.NaN;
        Path set = perLayerWith(JUMP_RELU, 1, t -> new ReferenceFormatWriter.PerLayerTensors(t.wEnc(), t.bEnc(), t.wDec(),
                t.bDec(), Optional.of(Tensor.floats(DType.F32, new long[] {10}, theta)), t.wSkip()));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE,
                "layer_1.safetensors: activation_function.threshold [10]: the threshold of feature 7 is NaN");
    }

    @Test
    void thresholdsOrSkipsOnSomeLayersOnlyAreMalformed() {
        Path set = perLayerWith(1, t -> new ReferenceFormatWriter.PerLayerTensors(t.wEnc(), t.bEnc(), t.wDec(), t.bDec(),
                t.threshold(), Optional.of(Tensor.floats(DType.F32, new long[] {6, 6}, new float[36]))));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors: has W_skip but "
                + "layer_0.safetensors has not; every layer has it or none does");
    }

    @Test
    void aDecoderWithTheWrongNumberOfFeaturesIsNamed() {
        Path set = perLayerWith(1, t -> withDecoder(t, Tensor.floats(DType.F32, new long[] {11, 6}, new float[66])));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE,
                "layer_1.safetensors: W_dec [11, 6] should be a [10, 6] matrix");
    }

    @Test
    void aDecoderBiasOfTheWrongWidthIsNamed() {
        Path set = perLayerWith(1, t -> new ReferenceFormatWriter.PerLayerTensors(t.wEnc(), t.bEnc(), t.wDec(),
                Tensor.floats(DType.F32, new long[] {7}, new float[7]), t.threshold(), t.wSkip()));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE,
                "layer_1.safetensors: b_dec [7] has 7 elements, expected 6 elements (the model width d)");
    }

    @Test
    void anEncoderOfTheWrongWidthIsNamed() {
        Path set = perLayerWith(0, t -> new ReferenceFormatWriter.PerLayerTensors(
                Tensor.floats(DType.F32, new long[] {10, 5}, new float[50]), t.bEnc(), t.wDec(), t.bDec(), t.threshold(),
                t.wSkip()));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_0.safetensors: W_enc [10, 5] should be a "
                + "[10, 6] matrix");
    }

    @Test
    void aTensorOfTheWrongRankIsNamed() {
        Path set = perLayerWith(1, t -> withDecoder(t, Tensor.floats(DType.F32, new long[] {60}, new float[60])));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors: W_dec has shape [60]; "
                + "expected [F, d]");
    }

    @Test
    void integerWeightsAreRejected() {
        Path set = perLayerWith(0, t -> withDecoder(t, new Tensor(DType.I32, new long[] {10, 6}, ByteBuffer.allocate(240))));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "W_dec is I32; transcoder weights are F32, BF16 or F16");
    }

    @Test
    void missingAndUnexpectedTensorsAreNamed() {
        Path set = perLayerWith(0, t -> t);
        ReferenceFormatWriter.PerLayerTensors t = SyntheticTranscoders.perLayerTensors(SMALL, 5).get(1);
        new SafetensorsWriter().add("W_enc", DType.F32, t.wEnc().shape(), t.wEnc().data())
                .add("W_dec", DType.F32, t.wDec().shape(), t.wDec().data())
                .add("b_dec", DType.F32, t.bDec().shape(), t.bDec().data())
                .write(set.resolve("layer_1.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors: tensor b_enc is missing; "
                + "it holds W_enc, b_enc, W_dec, b_dec and optionally activation_function.threshold, W_skip");
        new SafetensorsWriter().add("W_enc", DType.F32, t.wEnc().shape(), t.wEnc().data())
                .add("W_dec", DType.F32, t.wDec().shape(), t.wDec().data())
                .add("b_dec", DType.F32, t.bDec().shape(), t.bDec().data())
                .add("b_enc", DType.F32, t.bEnc().shape(), t.bEnc().data())
                .add("W_extra", DType.F32, t.bDec().shape(), t.bDec().data())
                .write(set.resolve("layer_1.safetensors"));
        assertUnreadable(PLT, set, StandardErrorCode.MALFORMED_FILE, "layer_1.safetensors: unexpected tensor [W_extra]");
    }

    // ---------------------------------------------------------------- cross-layer

    @Test
    void aCrossLayerDecoderMustCoverTheLaterLayers() {
        Path set = SyntheticTranscoders.crossLayer(dir.resolve("clt"), SyntheticTranscoders.config(
                ModelKind.CROSS_LAYER_TRANSCODER), new SyntheticTranscoders.Spec(3, 8, 4, DType.F32, false, false), 1);
        new SafetensorsWriter().add("W_dec_1", DType.F32, new long[] {8, 3, 4}, ByteBuffer.allocate(8 * 3 * 4 * 4))
                .write(set.resolve("W_dec_1.safetensors"));
        assertUnreadable(CLT, set, StandardErrorCode.MALFORMED_FILE, "W_dec_1.safetensors: W_dec_1 has shape [8, 3, 4]; "
                + "expected [F, 2, 4]: layer 1 writes to layers 1 … 2");
    }

    @Test
    void crossLayerEncoderAndDecoderFilesMustPair() {
        Path set = Directories.copyOfFixture("llama-clt-relu", dir.resolve("clt"));
        Directories.delete(set.resolve("W_dec_3.safetensors"));
        assertUnreadable(CLT, set, StandardErrorCode.MALFORMED_FILE, "4 encoder files (W_enc_0 …) but 3 decoder files");
    }

    @Test
    void aCrossLayerConfigWithAFileListIsAnotherFormat() {
        Path set = Directories.editConfig(Directories.copyOfFixture("llama-clt-relu", dir.resolve("clt")),
                c -> c + "transcoders: [a.safetensors]\n");
        assertThat(CLT.recognize(set).matches()).isFalse();
        assertUnreadable(CLT, set, StandardErrorCode.MALFORMED_FILE, "GemmaScope-2");
    }

    @Test
    void crossLayerThresholdsOnSomeLayersOnlyAreMalformed() {
        Path set = SyntheticTranscoders.crossLayer(dir.resolve("clt"), SyntheticTranscoders.config(
                ModelKind.CROSS_LAYER_TRANSCODER), new SyntheticTranscoders.Spec(2, 8, 4, DType.F32, true, false), 1);
        new SafetensorsWriter().add("W_enc_1", DType.F32, new long[] {8, 4}, ByteBuffer.allocate(128))
                .add("b_enc_1", DType.F32, new long[] {8}, ByteBuffer.allocate(32))
                .add("b_dec_1", DType.F32, new long[] {4}, ByteBuffer.allocate(16))
                .write(set.resolve("W_enc_1.safetensors"));
        assertUnreadable(CLT, set, StandardErrorCode.MALFORMED_FILE, "W_enc_1.safetensors: has no threshold_1");
    }
}
