package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directories circuit-tracer 0.5 and its users really write, each copied here in the writer's layout and config
 * text, opened, and encoded against a direct computation from the raw tensors ({@code W_enc·x + b_enc → σ}); and the
 * checkpoints the format refuses, with the message they get.
 */
class WriterLayoutsTest {

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

    // ------------------------------------------------------------------------------- 1. circuit-tracer's cache

    /**
     * {@code save_transcoders_to_cache} ({@code circuit_tracer/utils/caching.py}) writes {@code layer_{i}.safetensors}
     * with {@code to_safetensors} and then {@code yaml.dump} of the repository's config without {@code transcoders},
     * {@code repo_id}, {@code subfolder}: keys sorted, {@code revision: null} when no revision was asked for.
     */
    @Test
    void aPerLayerCacheEntryWithYamlDumpNullsLoads() throws IOException {
        Path entry = SyntheticTranscoders.perLayer(dir.resolve("circuit_tracer/mntss/transcoder-Llama-3.2-1B"),
                SyntheticTranscoders.config(ModelKind.TRANSCODER_SET), spec(3, 12, 8, false), 11);
        writeConfig(entry, """
                feature_input_hook: mlp.hook_in
                feature_output_hook: mlp.hook_out
                model_kind: transcoder_set
                model_name: meta-llama/Llama-3.2-1B
                revision: null
                scan: mntss/transcoder-Llama-3.2-1B
                """);
        assertThat(PLT.recognize(entry).matches()).isTrue();
        assertThat(CLT.recognize(entry).matches()).isFalse();
        ReferenceConfig config = ReferenceConfig.read(entry);
        assertThat(config.revision()).isEmpty();
        assertThat(config.modelName()).contains("meta-llama/Llama-3.2-1B");
        try (SparseDictionary d = PLT.create(DictionarySource.of(entry))) {
            assertThat(d.scan()).isEqualTo("mntss/transcoder-Llama-3.2-1B");
            for (int layer = 0; layer < 3; layer++) {
                assertEncodesAsComputed(d, layer, perLayerFile(entry, layer), new ActivationFunction.Relu());
            }
        }
    }

    @Test
    void nullScanModelNameAndOtherKeysAreAbsentKeys() throws IOException {
        Path entry = SyntheticTranscoders.perLayer(dir.resolve("entry"),
                SyntheticTranscoders.config(ModelKind.TRANSCODER_SET), spec(2, 10, 6, true), 12);
        writeConfig(entry, """
                activation: null
                feature_input_hook: hook_resid_mid
                feature_output_hook: hook_mlp_out
                k: null
                model_kind: transcoder_set
                model_name: null
                revision: null
                scan: null
                transcoders: null
                """);
        ReferenceConfig config = ReferenceConfig.read(entry);
        assertThat(config).isEqualTo(ReferenceConfig.of(ModelKind.TRANSCODER_SET, config.featureInputHook(),
                config.featureOutputHook()));
        try (SparseDictionary d = PLT.create(DictionarySource.of(entry))) {
            assertThat(d.scan()).isEqualTo(entry.toAbsolutePath().normalize().toString()); // the reference's default
            assertEncodesAsComputed(d, 1, perLayerFile(entry, 1), new ActivationFunction.JumpRelu());
        }
    }

    /** {@code CrossLayerTranscoder.to_safetensors}: {@code W_enc_{i}} (with {@code threshold_{i}}) and {@code W_dec_{i}}. */
    @Test
    void aCrossLayerCacheEntryLoads() throws IOException {
        Path entry = SyntheticTranscoders.crossLayer(dir.resolve("circuit_tracer/mntss/clt-gemma-2-2b-426k"),
                SyntheticTranscoders.config(ModelKind.CROSS_LAYER_TRANSCODER), spec(3, 10, 6, true), 13);
        writeConfig(entry, """
                feature_input_hook: hook_resid_mid
                feature_output_hook: hook_mlp_out
                model_kind: cross_layer_transcoder
                model_name: google/gemma-2-2b
                revision: null
                scan: mntss/clt-gemma-2-2b-426k
                """);
        assertThat(CLT.recognize(entry).matches()).isTrue();
        assertThat(PLT.recognize(entry).matches()).isFalse();
        try (SparseDictionary d = CLT.create(DictionarySource.of(entry))) {
            assertThat(d.scan()).isEqualTo("mntss/clt-gemma-2-2b-426k");
            for (int layer = 0; layer < 3; layer++) {
                assertEncodesAsComputed(d, layer, new LayerTensors(entry.resolve("W_enc_" + layer + ".safetensors"),
                        "W_enc_" + layer, "b_enc_" + layer, Optional.of("threshold_" + layer)),
                        new ActivationFunction.JumpRelu());
            }
        }
    }

    // ------------------------------------------------------------------------------- 2. configs stricter than writers

    @Test
    void unknownKeysAreIgnored() throws IOException {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                spec(2, 10, 6, false), 14);
        writeConfig(set, """
                model_kind: transcoder_set
                model_name: google/gemma-2-2b
                feature_input_hook: hook_resid_mid
                feature_output_hook: hook_mlp_out
                description: my transcoders, trained on FineWeb
                repo_id: someone/transcoders
                subfolder: null
                dtype: bfloat16
                training: {lr: 0.0001, steps: 10000}
                """);
        try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
            assertEncodesAsComputed(d, 0, perLayerFile(set, 0), new ActivationFunction.Relu());
        }
    }

    /** circuit-tracer PR #94: {@code activation: jumprelu} (anything but relu and topk) lets the thresholds decide. */
    @Test
    void activationJumpReluLetsTheThresholdsDecide() throws IOException {
        Path jump = SyntheticTranscoders.perLayer(dir.resolve("jump"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                spec(2, 10, 6, true), 15);
        writeConfig(jump, CONFIG_HEAD + "activation: jumprelu\n");
        try (SparseDictionary d = PLT.create(DictionarySource.of(jump))) {
            assertEncodesAsComputed(d, 1, perLayerFile(jump, 1), new ActivationFunction.JumpRelu());
        }
        Path plain = SyntheticTranscoders.perLayer(dir.resolve("plain"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                spec(2, 10, 6, false), 15);
        writeConfig(plain, CONFIG_HEAD + "activation: jumprelu\n");
        try (SparseDictionary d = PLT.create(DictionarySource.of(plain))) { // no thresholds: ReLU, as the reference
            assertEncodesAsComputed(d, 0, perLayerFile(plain, 0), new ActivationFunction.Relu());
        }
        Path clt = SyntheticTranscoders.crossLayer(dir.resolve("clt"), SyntheticTranscoders.config(
                ModelKind.CROSS_LAYER_TRANSCODER), spec(2, 10, 6, true), 15);
        writeConfig(clt, CONFIG_HEAD.replace("transcoder_set", "cross_layer_transcoder") + "activation: jumprelu\n");
        try (SparseDictionary d = CLT.create(DictionarySource.of(clt))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.JumpRelu());
        }
        // written back as it was read
        assertThat(ReferenceConfig.read(jump).withStandardFileNames().toYaml()).contains("activation: jumprelu");
    }

    /** The reference's cross-layer loader reads the tensors it names and ignores the rest of each file. */
    @Test
    void extraTensorsInCrossLayerFilesAreIgnored() throws IOException {
        Path original = SyntheticTranscoders.crossLayer(dir.resolve("original"), SyntheticTranscoders.config(
                ModelKind.CROSS_LAYER_TRANSCODER), spec(2, 10, 6, false), 16);
        Path extended = Files.createDirectories(dir.resolve("extended"));
        Files.copy(original.resolve("config.yaml"), extended.resolve("config.yaml"));
        for (int i = 0; i < 2; i++) {
            try (SafetensorsFile encoder = SafetensorsFile.open(original.resolve("W_enc_" + i + ".safetensors"));
                 SafetensorsFile decoder = SafetensorsFile.open(original.resolve("W_dec_" + i + ".safetensors"))) {
                SafetensorsWriter enc = copy(encoder).addFloats("W_skip_" + i, new long[] {6, 6}, new float[36])
                        .addFloats("norm_scale_" + i, new long[] {10}, new float[10]);
                enc.write(extended.resolve("W_enc_" + i + ".safetensors"));
                copy(decoder).addLongs("step", DType.I64, new long[0], new long[] {1000})
                        .write(extended.resolve("W_dec_" + i + ".safetensors"));
            }
        }
        try (SparseDictionary d = CLT.create(DictionarySource.of(extended));
             SparseDictionary o = CLT.create(DictionarySource.of(original))) {
            for (int layer = 0; layer < 2; layer++) {
                assertEncodesAsComputed(d, layer, new LayerTensors(extended.resolve("W_enc_" + layer + ".safetensors"),
                        "W_enc_" + layer, "b_enc_" + layer, Optional.empty()), new ActivationFunction.Relu());
                int[] all = java.util.stream.IntStream.range(0, 10).toArray();
                assertThat(d.decoderRows(manager, layer, all, 1).toFloatArray())
                        .containsExactly(o.decoderRows(manager, layer, all, 1).toFloatArray());
            }
        }
    }

    // ------------------------------------------------------------------------------- 3. TopK sets

    /** {@code facebook/crv-8b-instruct-transcoders}: {@code activation: topk}, no k; the reference hard-codes 128. */
    @Test
    void theCrvCacheEntryGetsTheKTheReferenceHardCodes() throws IOException {
        Path entry = SyntheticTranscoders.perLayer(dir.resolve("circuit_tracer/facebook/crv-8b-instruct-transcoders"),
                SyntheticTranscoders.config(ModelKind.TRANSCODER_SET), spec(1, 130, 4, false), 17);
        writeConfig(entry, """
                activation: topk
                feature_input_hook: mlp.hook_in
                feature_output_hook: mlp.hook_out
                model_kind: transcoder_set
                model_name: meta-llama/Llama-3.1-8B-Instruct
                revision: null
                scan: facebook/crv-8b-instruct-transcoders
                """);
        try (SparseDictionary d = PLT.create(DictionarySource.of(entry))) {
            assertEncodesAsComputed(d, 0, perLayerFile(entry, 0), new ActivationFunction.TopK(128));
        }
        // with a revision (scan repo@rev), or without a scan in the repository's Hugging Face snapshot
        writeConfig(entry, Files.readString(entry.resolve("config.yaml")).replace(
                "scan: facebook/crv-8b-instruct-transcoders", "scan: facebook/crv-8b-instruct-transcoders@a1b2c3"));
        try (SparseDictionary d = PLT.create(DictionarySource.of(entry))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.TopK(128));
        }
        Path snapshot = SyntheticTranscoders.perLayer(dir.resolve(
                "hub/models--facebook--crv-8b-instruct-transcoders/snapshots/0123abcd"),
                SyntheticTranscoders.config(ModelKind.TRANSCODER_SET), spec(1, 130, 4, false), 17);
        writeConfig(snapshot, CONFIG_HEAD + "activation: topk\n");
        try (SparseDictionary d = PLT.create(DictionarySource.of(snapshot))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.TopK(128));
        }
        // --topk chooses another k
        try (SparseDictionary d = PLT.create(withTopK(snapshot, "64"))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.TopK(64));
        }
    }

    @Test
    void topKWithoutKAnywhereAsksForTopKOption() throws IOException {
        Path set = SyntheticTranscoders.perLayer(dir.resolve("set"), SyntheticTranscoders.config(ModelKind.TRANSCODER_SET),
                spec(2, 10, 6, false), 18);
        writeConfig(set, CONFIG_HEAD + "activation: topk\n");
        assertError(() -> PLT.create(DictionarySource.of(set)).close(), StandardErrorCode.MALFORMED_FILE,
                set.resolve("config.yaml") + ": k is missing", "Pass --topk K", "topk=K", "add 'k: K' to config.yaml");
        try (SparseDictionary d = PLT.create(withTopK(set, "3"))) {
            for (int layer = 0; layer < 2; layer++) {
                assertEncodesAsComputed(d, layer, perLayerFile(set, layer), new ActivationFunction.TopK(3));
            }
            // the copy records the k that was used
            d.save(dir.resolve("copy"));
        }
        assertThat(ReferenceConfig.read(dir.resolve("copy")).activation()).contains(new ActivationFunction.TopK(3));
        writeConfig(set, CONFIG_HEAD + "activation: topk\nk: 4\n");
        assertError(() -> PLT.create(withTopK(set, "3")), StandardErrorCode.INVALID_ARGUMENT,
                "--topk 3 (option topk) disagrees with", "says k: 4");
        try (SparseDictionary d = PLT.create(withTopK(set, "4"))) {
            assertThat(d.activation(0)).isEqualTo(new ActivationFunction.TopK(4));
        }
        writeConfig(set, CONFIG_HEAD + "activation: relu\n");
        assertError(() -> PLT.create(withTopK(set, "3")), StandardErrorCode.INVALID_ARGUMENT,
                "is for TopK transcoders", "'activation: relu'");
    }

    /**
     * {@code SingleLayerTranscoder.to_safetensors} of a TopK transcoder adds {@code k = torch.tensor(k)}: an I64
     * scalar. It gives k when the config has none, and must agree with the config and the option.
     */
    @Test
    void theScalarKTensorOfToSafetensorsGivesK() throws IOException {
        List<ReferenceFormatWriter.PerLayerTensors> tensors = SyntheticTranscoders.perLayerTensors(spec(2, 10, 6, false), 19);
        Path set = Files.createDirectories(dir.resolve("topk"));
        for (int layer = 0; layer < 2; layer++) {
            toSafetensors(set.resolve("layer_" + layer + ".safetensors"), tensors.get(layer), 3);
        }
        for (String activation : List.of("activation: topk\n", "")) {
            writeConfig(set, CONFIG_HEAD + activation);
            try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
                for (int layer = 0; layer < 2; layer++) {
                    assertEncodesAsComputed(d, layer, perLayerFile(set, layer), new ActivationFunction.TopK(3));
                }
            }
        }
        assertError(() -> PLT.create(withTopK(set, "5")), StandardErrorCode.INVALID_ARGUMENT,
                "--topk 5 (option topk) disagrees with", "layer_0.safetensors holds k = 3");
        writeConfig(set, CONFIG_HEAD + "activation: topk\nk: 4\n");
        assertError(() -> PLT.create(DictionarySource.of(set)), StandardErrorCode.MALFORMED_FILE, "says k: 4 but",
                "holds k = 3");
        writeConfig(set, CONFIG_HEAD + "activation: relu\n");
        assertError(() -> PLT.create(DictionarySource.of(set)), StandardErrorCode.MALFORMED_FILE,
                "says 'activation: relu' but", "TopK k = 3");
        writeConfig(set, CONFIG_HEAD);
        toSafetensors(set.resolve("layer_1.safetensors"), tensors.get(1), 4);
        assertError(() -> PLT.create(DictionarySource.of(set)), StandardErrorCode.MALFORMED_FILE,
                "layer_1.safetensors: k is 4 but layer_0.safetensors has k = 3");
        toSafetensors(set.resolve("layer_1.safetensors"), tensors.get(1), 0);
        assertError(() -> PLT.create(DictionarySource.of(set)), StandardErrorCode.MALFORMED_FILE,
                "layer_1.safetensors: k is 0");
    }

    // ------------------------------------------------------------------------------- 4. transcoders: lists of hf://

    private static final String HUB_LIST = """
            model_kind: transcoder_set
            model_name: google/gemma-2-2b
            feature_input_hook: ln2.hook_normalized
            feature_output_hook: hook_mlp_out
            transcoders:
              - hf://someone/plt-gemma/layer_0/params.safetensors
              - hf://someone/plt-gemma/layer_1/params.safetensors
              - hf://other/plt-gemma-extra/layer_2.safetensors?revision=v2
            """;

    /** Runs {@code body} with the Hugging Face cache at {@code root} (what {@code HF_HUB_CACHE} says). */
    private static void withHubCache(Path root, ThrowableAssert.ThrowingCallable body) throws Throwable {
        String property = org.circuittracer.hub.HubCache.PROPERTY_PREFIX + "HF_HUB_CACHE";
        String before = System.getProperty(property);
        System.setProperty(property, root.toString());
        try {
            body.call();
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    /** Puts {@code file} into the cache as {@code huggingface_hub} does: a link in the snapshot to a blob. */
    private static void cache(Path root, String repo, String ref, String commit, String path, Path file)
            throws IOException {
        Path repoDir = root.resolve("models--" + repo.replace("/", "--"));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs").resolve(ref), commit);
        Path blob = repoDir.resolve("blobs").resolve(Integer.toHexString(path.hashCode()) + "0123456789abcdef");
        Files.createDirectories(blob.getParent());
        Files.copy(file, blob, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path link = repoDir.resolve("snapshots").resolve(commit).resolve(path);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(blob));
    }

    @Test
    void hubListsAreReadFromTheHuggingFaceCache() throws Throwable {
        Path weights = SyntheticTranscoders.perLayer(dir.resolve("weights"), SyntheticTranscoders.config(
                ModelKind.TRANSCODER_SET), spec(3, 10, 6, true), 21);
        Path hub = dir.resolve("hf-home/hub");
        String commitA = "a".repeat(40);
        cache(hub, "someone/plt-gemma", "main", commitA, "layer_0/params.safetensors",
                weights.resolve("layer_0.safetensors"));
        cache(hub, "someone/plt-gemma", "main", commitA, "layer_1/params.safetensors",
                weights.resolve("layer_1.safetensors"));
        cache(hub, "other/plt-gemma-extra", "v2", "b".repeat(40), "layer_2.safetensors",
                weights.resolve("layer_2.safetensors"));
        Path set = Files.createDirectories(dir.resolve("hub-list"));
        writeConfig(set, HUB_LIST);
        assertThat(PLT.recognize(set).matches()).isTrue();
        assertThat(CLT.recognize(set).matches()).isFalse();
        withHubCache(hub, () -> {
            try (SparseDictionary d = PLT.create(DictionarySource.of(set))) {
                for (int layer = 0; layer < 3; layer++) {
                    assertEncodesAsComputed(d, layer, perLayerFile(weights, layer), new ActivationFunction.JumpRelu());
                }
            }
        });
        // a blob gone (an interrupted download), a revision not cached: those entries are named, with what to run
        Files.delete(hub.resolve("models--someone--plt-gemma/blobs").resolve(
                Integer.toHexString("layer_1/params.safetensors".hashCode()) + "0123456789abcdef"));
        writeConfig(set, HUB_LIST.replace("?revision=v2", "?revision=v3"));
        withHubCache(hub, () -> assertError(() -> PLT.create(DictionarySource.of(set)), StandardErrorCode.FILE_NOT_FOUND,
                "lists 2 of its 3 transcoder files on the Hugging Face Hub",
                "transcoders[1] = 'hf://someone/plt-gemma/layer_1/params.safetensors', transcoders[2] = ",
                "not in the local Hugging Face cache (" + hub + ", from HF_HUB_CACHE=" + hub + ")",
                "\n  huggingface-cli download someone/plt-gemma layer_1/params.safetensors\n",
                "\n  huggingface-cli download other/plt-gemma-extra --revision v3 layer_2.safetensors\n"));
    }

    @Test
    void hubListsNotInTheCacheNameWhatToDownload() throws Throwable {
        Path set = Files.createDirectories(dir.resolve("hub-list"));
        writeConfig(set, HUB_LIST);
        withHubCache(dir.resolve("empty-cache"), () -> assertError(() -> PLT.create(DictionarySource.of(set)),
                StandardErrorCode.FILE_NOT_FOUND, "lists 3 of its 3 transcoder files on the Hugging Face Hub",
                "transcoders[0] = 'hf://someone/plt-gemma/layer_0/params.safetensors'", "must be downloaded",
                "\n  huggingface-cli download someone/plt-gemma layer_0/params.safetensors layer_1/params.safetensors\n",
                "\n  huggingface-cli download other/plt-gemma-extra --revision v2 layer_2.safetensors\n",
                "or list the files' local paths under transcoders:"));
        // mntss/gemma-scope-transcoders lists GemmaScope .npz files: the gemma-scope-npz format's, not ours
        writeConfig(set, """
                model_kind: transcoder_set
                model_name: google/gemma-2-2b
                feature_input_hook: ln2.hook_normalized
                feature_output_hook: hook_mlp_out
                transcoders:
                  - hf://google/gemma-scope-2b-pt-transcoders/layer_0/width_16k/average_l0_76/params.npz
                  - hf://google/gemma-scope-2b-pt-transcoders/layer_1/width_16k/average_l0_65/params.npz
                """);
        assertThat(PLT.recognize(set).matches()).isFalse();
        assertThat(CLT.recognize(set).matches()).isFalse();
    }

    // ------------------------------------------------------------------------------- 5. checkpoints we do not support

    /** EleutherAI clt-training: per hook point {@code cfg.json} + {@code sae.safetensors} ({@code post_enc}, {@code W_decs.N}). */
    private Path cltTrainingCheckpoint(String name) throws IOException {
        Path root = Files.createDirectories(dir.resolve(name));
        Files.writeString(root.resolve("config.json"), "{\"run_name\": \"btopk-clt\", \"cross_layer\": 2, "
                + "\"hookpoints\": [\"layers.0.mlp\", \"layers.1.mlp\"]}");
        for (int layer = 0; layer < 2; layer++) {
            Path hook = Files.createDirectories(root.resolve("layers." + layer + ".mlp"));
            Files.writeString(hook.resolve("cfg.json"), "{\"activation\": \"batchtopk\", \"expansion_factor\": 2, "
                    + "\"normalize_decoder\": true, \"num_latents\": 0, \"k\": 4, \"skip_connection\": false, "
                    + "\"transcode\": true, \"n_targets\": " + (2 - layer) + ", \"n_sources\": 0, "
                    + "\"coalesce_topk\": \"none\", \"d_in\": 6}");
            SafetensorsWriter sae = new SafetensorsWriter().metadata("format", "pt")
                    .addFloats("encoder.weight", new long[] {12, 6}, new float[72])
                    .addFloats("encoder.bias", new long[] {12}, new float[12])
                    .addFloats("post_enc", new long[] {12}, new float[12]);
            for (int t = 0; t < 2 - layer; t++) {
                sae.addFloats("W_decs." + t, new long[] {12, 6}, new float[72])
                        .addFloats("b_decs." + t, new long[] {6}, new float[6]);
            }
            sae.write(hook.resolve("sae.safetensors"));
        }
        return root;
    }

    @Test
    void cltTrainingCheckpointsAreUnsupportedNotCorrupt() throws IOException {
        Path withKind = cltTrainingCheckpoint("with-kind");
        writeConfig(withKind, CONFIG_HEAD.replace("transcoder_set", "cross_layer_transcoder"));
        Path withoutKind = cltTrainingCheckpoint("without-kind");
        writeConfig(withoutKind, "activation: batchtopk\nk: 4\nexpansion_factor: 2\ntranscode: true\n");
        Path onlyTensors = cltTrainingCheckpoint("only-tensors");
        writeConfig(onlyTensors, "description: a CLT for gemma\n");
        for (Path checkpoint : List.of(withKind, withoutKind, onlyTensors)) {
            // exactly one reference format claims it, so that detection gives the message below
            assertThat(CLT.recognize(checkpoint).matches()).as(checkpoint.toString()).isTrue();
            assertThat(PLT.recognize(checkpoint).matches()).as(checkpoint.toString()).isFalse();
            assertUnsupported(CLT, checkpoint, checkpoint + " is an EleutherAI clt-training",
                    "tensors W_decs.0, W_decs.1, b_decs.0 in layers.0.mlp" + java.io.File.separator + "sae.safetensors");
        }
        assertUnsupported(CLT, withoutKind, "config.yaml says activation: batchtopk",
                "config.yaml has clt-training's keys [expansion_factor, transcode]");
        // a reference set whose config says batchtopk, or whose layer files hold clt-training tensors
        Path batchTopK = SyntheticTranscoders.perLayer(dir.resolve("btopk"), SyntheticTranscoders.config(
                ModelKind.TRANSCODER_SET), spec(2, 10, 6, false), 20);
        writeConfig(batchTopK, CONFIG_HEAD + "activation: batchtopk\nk: 4\n");
        assertThat(PLT.recognize(batchTopK).matches()).isTrue();
        assertUnsupported(PLT, batchTopK, "config.yaml says activation: batchtopk");
        writeConfig(batchTopK, CONFIG_HEAD);
        Path listed = Files.createDirectories(batchTopK.resolve("w"));
        try (SafetensorsFile layer = SafetensorsFile.open(batchTopK.resolve("layer_1.safetensors"))) {
            copy(layer).addFloats("post_enc", new long[] {10}, new float[10]).write(listed.resolve("l1.safetensors"));
        }
        writeConfig(batchTopK, CONFIG_HEAD + "transcoders: [layer_0.safetensors, w/l1.safetensors]\n");
        assertUnsupported(PLT, batchTopK, "l1.safetensors holds tensors of an EleutherAI clt-training", "post_enc");
        // a config.yaml of no tool we know is nobody's
        Path other = Files.createDirectories(dir.resolve("other"));
        writeConfig(other, "description: something else\n");
        assertThat(CLT.recognize(other).matches()).isFalse();
        assertThat(PLT.recognize(other).matches()).isFalse();
    }

    /** {@code mwhanna/gemma-scope-2-*} lists GemmaScope 2 {@code params.safetensors}: another layout, said so. */
    @Test
    void gemmaScope2FilesAreUnsupported() throws IOException {
        Path set = Files.createDirectories(dir.resolve("gs2"));
        new SafetensorsWriter().addFloats("w_enc", new long[] {6, 10}, new float[60])
                .addFloats("w_dec", new long[] {10, 6}, new float[60]).addFloats("b_enc", new long[] {10}, new float[10])
                .addFloats("b_dec", new long[] {6}, new float[6]).addFloats("threshold", new long[] {10}, new float[10])
                .write(set.resolve("params.safetensors"));
        writeConfig(set, CONFIG_HEAD + "transcoders: [params.safetensors]\n");
        assertUnsupported(PLT, set, "params.safetensors is a GemmaScope 2 transcoder", "gemma-scope-2");
    }

    // ------------------------------------------------------------------------------- helpers

    private static final String CONFIG_HEAD = """
            model_kind: transcoder_set
            feature_input_hook: hook_resid_mid
            feature_output_hook: hook_mlp_out
            """;

    private static SyntheticTranscoders.Spec spec(int layers, int features, int width, boolean thresholds) {
        return new SyntheticTranscoders.Spec(layers, features, width, DType.F32, thresholds, false);
    }

    private static DictionarySource withTopK(Path directory, String k) {
        return new DictionarySource(directory, false, true, Map.of(ReferenceOptions.TOPK, k));
    }

    private static void writeConfig(Path directory, String text) throws IOException {
        Files.writeString(directory.resolve("config.yaml"), text);
    }

    /** What {@code SingleLayerTranscoder.to_safetensors} writes for a TopK transcoder ({@code k < 1}: a bad k). */
    private static void toSafetensors(Path file, ReferenceFormatWriter.PerLayerTensors t, long k) {
        new SafetensorsWriter().add("W_enc", t.wEnc().dtype(), t.wEnc().shape(), t.wEnc().data())
                .add("W_dec", t.wDec().dtype(), t.wDec().shape(), t.wDec().data())
                .add("b_enc", t.bEnc().dtype(), t.bEnc().shape(), t.bEnc().data())
                .add("b_dec", t.bDec().dtype(), t.bDec().shape(), t.bDec().data())
                .addLongs("k", DType.I64, new long[0], new long[] {k})
                .write(file);
    }

    private static SafetensorsWriter copy(SafetensorsFile file) {
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
        for (String name : file.names()) {
            Tensor t = Tensor.of(file, name);
            writer.add(name, t.dtype(), t.shape(), t.data());
        }
        return writer;
    }

    /** Where the encoder of one layer is stored. */
    private record LayerTensors(Path file, String wEnc, String bEnc, Optional<String> threshold) {
    }

    private static LayerTensors perLayerFile(Path directory, int layer) {
        return new LayerTensors(directory.resolve("layer_" + layer + ".safetensors"), "W_enc", "b_enc",
                Optional.of("activation_function.threshold"));
    }

    /**
     * The dictionary's activation and encoding of a random input equal the direct computation from the raw tensors:
     * {@code h = x·W_encᵀ + b_enc}, then ReLU, JumpReLU ({@code h > θ}) or TopK (the k largest {@code h} per position).
     */
    private void assertEncodesAsComputed(SparseDictionary d, int layer, LayerTensors where, ActivationFunction expected) {
        assertThat(d.activation(layer)).isEqualTo(expected);
        float[] w;
        float[] b;
        float[] theta = null;
        try (SafetensorsFile file = SafetensorsFile.open(where.file())) {
            w = file.readFloats(where.wEnc());
            b = file.readFloats(where.bEnc());
            if (expected instanceof ActivationFunction.JumpRelu) {
                theta = file.readFloats(where.threshold().orElseThrow());
            }
        }
        int features = b.length;
        int width = w.length / features;
        int positions = 5;
        Random random = new Random(31L * layer + features);
        float[] x = new float[positions * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        NDArray input = manager.create(x, new Shape(positions, width));
        float[] actual = d.encode(manager, layer, input, Set.of()).toFloatArray();
        assertThat(actual).hasSize(positions * features);
        for (int p = 0; p < positions; p++) {
            double[] h = new double[features];
            for (int f = 0; f < features; f++) {
                double s = b[f];
                for (int i = 0; i < width; i++) {
                    s += (double) x[p * width + i] * w[f * width + i];
                }
                h[f] = s;
            }
            double kth = Double.NEGATIVE_INFINITY;
            if (expected instanceof ActivationFunction.TopK topK) {
                double[] sorted = h.clone();
                Arrays.sort(sorted);
                kth = sorted[features - topK.k()];
            }
            for (int f = 0; f < features; f++) {
                double a;
                if (expected instanceof ActivationFunction.Relu) {
                    a = Math.max(h[f], 0);
                } else if (expected instanceof ActivationFunction.JumpRelu) {
                    a = h[f] > theta[f] ? h[f] : 0;
                } else {
                    a = h[f] >= kth ? h[f] : 0;
                }
                assertThat((double) actual[p * features + f]).as("layer %d, position %d, feature %d", layer, p, f)
                        .isCloseTo(a, within(1e-4));
            }
        }
    }

    private static void assertError(ThrowableAssert.ThrowingCallable call, StandardErrorCode code, String... parts) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code)).hasMessageContainingAll(parts);
    }

    private static void assertUnsupported(DictionaryFormatProvider provider, Path directory, String... parts) {
        assertThatThrownBy(() -> provider.create(DictionarySource.of(directory)).close())
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(StandardErrorCode.UNSUPPORTED_ARCHITECTURE);
                    assertThat(e.getMessage()).startsWith("unsupported format: ");
                }).hasMessageContainingAll(parts);
    }
}
