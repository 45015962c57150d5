package org.circuittracer.transcoders.sparsify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.IntFunction;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.community.DirectComputation;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sparsify checkpoints as each version of sparsify wrote them, read and run on the tiny Llama's MLP inputs (golden
 * activations of its first prompt) against sparsify's own computation written out directly:
 *
 * <ul>
 *   <li>before commit f02711e (2025-02-12; EleutherAI's published skip transcoders): {@code cfg.json} without
 *       {@code transcode}, the flag in the run's {@code config.json}, and an encoder that centres its input on
 *       {@code b_dec};</li>
 *   <li>from then on (every release): {@code transcode} in {@code cfg.json}, no centring for transcoders;</li>
 *   <li>the unreleased {@code clt} branch: refused as an unsupported format.</li>
 * </ul>
 */
class SparsifyVersionsTest {

    private static final int LAYERS = 4;
    private static final int WIDTH = 64;
    private static final int FEATURES = 128;
    private static final int K = 8;

    @TempDir
    Path dir;

    /** {@code SaeConfig.to_dict()} plus {@code d_in}, as {@code Sae.save_to_disk} dumped it before 2025-02-12. */
    static String preV1Cfg(boolean skip) {
        return "{\"expansion_factor\": 32, \"normalize_decoder\": true, \"num_latents\": " + FEATURES + ", \"k\": " + K
                + ", \"multi_topk\": false, \"skip_connection\": " + skip + ", \"d_in\": " + WIDTH + "}";
    }

    /**
     * The run's {@code config.json} as {@code SaeTrainer.save} wrote it before 2025-02-12 ({@code TrainConfig} with the
     * nested {@code sae}, then the command line's {@code RunConfig} fields); {@code transcode} only at the top level.
     */
    static String preV1RunConfig(boolean transcode) {
        return """
                {
                    "sae": {
                        "expansion_factor": 32,
                        "normalize_decoder": true,
                        "num_latents": %d,
                        "k": %d,
                        "multi_topk": false,
                        "skip_connection": true
                    },
                    "batch_size": 8,
                    "grad_acc_steps": 1,
                    "micro_acc_steps": 1,
                    "lr": null,
                    "lr_warmup_steps": 1000,
                    "auxk_alpha": 0.0,
                    "dead_feature_threshold": 10000000,
                    "hookpoints": ["layers.0.mlp", "layers.1.mlp", "layers.2.mlp", "layers.3.mlp"],
                    "init_seeds": [0],
                    "layers": [],
                    "layer_stride": 1,
                    "transcode": %s,
                    "distribute_modules": false,
                    "save_every": 1000,
                    "log_to_wandb": false,
                    "run_name": "tiny-llama-skip-transcoder",
                    "wandb_log_frequency": 1,
                    "model": "tiny-models/llama",
                    "dataset": "EleutherAI/fineweb-edu-dedup-10b",
                    "split": "train",
                    "ctx_len": 2048,
                    "hf_token": null,
                    "revision": null,
                    "max_examples": null,
                    "resume": false,
                    "text_column": "text",
                    "finetune": null,
                    "shuffle_seed": 42,
                    "data_preprocessing_num_proc": 8
                }
                """.formatted(FEATURES, K, transcode);
    }

    /** {@code layers.N.mlp/cfg.json} and {@code sae.safetensors} ({@code save_model} of the module) per layer. */
    static Path write(Path run, TranscoderWeights w, DType dtype, IntFunction<String> cfg, Optional<String> runConfig) {
        FormatWriters.createDirectories(run);
        runConfig.ifPresent(text -> FormatWriters.writeString(run.resolve("config.json"), text));
        for (int layer = 0; layer < w.layers().size(); layer++) {
            TranscoderWeights.Layer l = w.layers().get(layer);
            Path sub = run.resolve("layers." + layer + ".mlp");
            FormatWriters.createDirectories(sub);
            FormatWriters.writeString(sub.resolve("cfg.json"), cfg.apply(layer));
            SafetensorsWriter weights = new SafetensorsWriter()
                    .addFloats("encoder.weight", dtype, new long[] {w.features(), w.width()}, l.wEnc())
                    .addFloats("encoder.bias", dtype, new long[] {w.features()}, l.bEnc())
                    .addFloats("W_dec", dtype, new long[] {w.features(), w.width()}, l.wDec())
                    .addFloats("b_dec", dtype, new long[] {w.width()}, l.bDec());
            l.wSkip().ifPresent(s -> weights.addFloats("W_skip", dtype, new long[] {w.width(), w.width()}, s));
            weights.write(sub.resolve("sae.safetensors"));
        }
        return run;
    }

    /** sparsify's computation of the coder at {@code run/layers.N.mlp} from what its file holds. */
    static DirectComputation direct(Path run, int layer, boolean centre) {
        Path file = run.resolve("layers." + layer + ".mlp/sae.safetensors");
        return new DirectComputation(FEATURES, WIDTH, DirectComputation.stored(file, "encoder.weight"),
                DirectComputation.stored(file, "encoder.bias"), DirectComputation.stored(file, "W_dec"),
                DirectComputation.stored(file, "b_dec"), Optional.empty(), Optional.of(K),
                Optional.of(DirectComputation.stored(file, "W_skip")), centre);
    }

    /** Every layer on the tiny Llama's MLP input at that layer (first golden prompt). */
    static void assertComputesAsSparsify(Path run, boolean centre) {
        try (SparseDictionary d = open(run)) {
            assertThat(d.layers()).isEqualTo(LAYERS);
            assertThat(d.readSite()).isEqualTo(SiteKind.MLP_IN);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT_RAW);
            assertThat(d.skip(0)).isPresent();
            for (int layer = 0; layer < LAYERS; layer++) {
                int[] tokens = new int[1];
                float[] x = DirectComputation.golden("llama", "p0.layers." + layer + ".mlp_in", tokens);
                direct(run, layer, centre).assertAgrees(d, layer, x, tokens[0]);
            }
        }
    }

    @Test
    void skipTranscodersSavedBeforeV1ReadTranscodeFromTheRunConfigAndFoldTheInputCentringIntoTheBias() {
        TranscoderWeights weights = TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 11, false, true);
        Path run = write(dir.resolve("f32"), weights, DType.F32, l -> preV1Cfg(true),
                Optional.of(preV1RunConfig(true)));
        assertComputesAsSparsify(run, true);
        try (SparseDictionary d = open(run); NDManager scope = NDManager.newBaseManager()) {
            // the fold is visible in the bias the attribution uses: encoder rows · x + bias = h of the centred input
            assertThat(d.encoderBias(scope, 0, new int[] {0}).toFloatArray()[0])
                    .isNotEqualTo(weights.layers().get(0).bEnc()[0]);
        }
    }

    @Test
    void bfloat16CheckpointsAreWidenedAndComputeAsStored() {
        // sparsify's trainer forced bf16 weights for a while (2024-06), and load_from_disk keeps the file's dtype
        Path run = write(dir.resolve("bf16"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 12, false, true),
                DType.BF16, l -> preV1Cfg(true), Optional.of(preV1RunConfig(true)));
        assertComputesAsSparsify(run, true);
    }

    @Test
    void checkpointsWithTranscodeInTheirCfgNeverCentreATranscodersInput() {
        // from f02711e on, cfg.json is SparseCoderConfig.to_dict() + d_in, with transcode; the run config nests it
        TranscoderWeights weights = TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 13, false, true);
        Path run = write(dir.resolve("v1"), weights, DType.F32, l -> "{\"activation\": \"topk\", \"expansion_factor\": "
                + "32, \"normalize_decoder\": true, \"num_latents\": " + FEATURES + ", \"k\": " + K + ", \"multi_topk\": "
                + "false, \"skip_connection\": true, \"transcode\": true, \"d_in\": " + WIDTH + "}",
                Optional.of("{\"sae\": {\"activation\": \"topk\", \"k\": " + K + ", \"transcode\": true}, "
                        + "\"batch_size\": 32, \"save_dir\": \"checkpoints\"}"));
        assertComputesAsSparsify(run, false);
    }

    @Test
    void theRunConfigsNestedFlagAlsoCounts() {
        Path run = write(dir.resolve("nested"), TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 14, false, true),
                DType.F32, l -> preV1Cfg(true), Optional.of("{\"sae\": {\"transcode\": true}}"));
        assertComputesAsSparsify(run, true);
    }

    @Test
    void preV1CoderWithoutARunConfigOrNotTranscodingIsAPlainSaeAndRefused() {
        TranscoderWeights weights = TranscoderWeights.random(LAYERS, FEATURES, WIDTH, 15, false, true);
        Path alone = write(dir.resolve("alone"), weights, DType.F32, l -> preV1Cfg(true), Optional.empty());
        expect(alone, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "has no 'transcode'", "before 2025-02-12",
                alone.resolve("config.json") + " does not exist", "plain sparse autoencoder");
        Path sae = write(dir.resolve("sae"), weights, DType.F32, l -> preV1Cfg(true),
                Optional.of(preV1RunConfig(false)));
        expect(sae, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "plain sparse autoencoder (transcode: false in "
                + sae.resolve("config.json"));
    }

    /**
     * The {@code clt} branch (2025-05): its {@code SparseCoderConfig} adds {@code n_targets}, {@code n_sources},
     * {@code normalize_io}, {@code coalesce_topk}, … to every {@code cfg.json}, and a multi-target coder stores
     * {@code W_decs.i}, {@code b_decs.i}, {@code W_skips.i} and {@code post_encs.i}.
     */
    @Test
    void checkpointsOfTheCltBranchAreRecognisedAsSparsifyAndRefusedAsAnUnsupportedFormat() {
        Path clt = dir.resolve("clt");
        FormatWriters.createDirectories(clt);
        FormatWriters.writeString(clt.resolve("config.json"), "{\"sae\": {\"transcode\": true, \"n_targets\": 2}, "
                + "\"cross_layer\": 1, \"tp\": 1}");
        for (int layer = 0; layer < 2; layer++) {
            Path sub = clt.resolve("layers." + layer + ".mlp");
            FormatWriters.createDirectories(sub);
            FormatWriters.writeString(sub.resolve("cfg.json"), "{\"activation\": \"topk\", \"expansion_factor\": 32, "
                    + "\"normalize_decoder\": true, \"num_latents\": 8, \"k\": 2, \"multi_topk\": false, "
                    + "\"skip_connection\": true, \"transcode\": true, \"n_targets\": " + (2 - layer) + ", "
                    + "\"n_sources\": " + (layer + 1) + ", \"normalize_io\": false, \"divide_cross_layer\": false, "
                    + "\"train_post_encoder\": true, \"post_encoder_scale\": false, \"coalesce_topk\": \"none\", "
                    + "\"topk_coalesced\": true, \"d_in\": 4}");
            SafetensorsWriter weights = new SafetensorsWriter()
                    .addFloats("encoder.weight", new long[] {8, 4}, new float[32])
                    .addFloats("encoder.bias", new long[] {8}, new float[8]);
            for (int target = 0; target < 2 - layer; target++) {
                weights.addFloats("W_decs." + target, new long[] {8, 4}, new float[32])
                        .addFloats("b_decs." + target, new long[] {4}, new float[4])
                        .addFloats("W_skips." + target, new long[] {4, 4}, new float[16])
                        .addFloats("post_encs." + target, new long[] {8}, new float[8]);
            }
            weights.write(sub.resolve("sae.safetensors"));
        }
        assertThat(new SparsifyProvider().recognize(clt).matches()).isTrue();
        expect(clt, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "clt branch", "n_targets, n_sources");
        assertThatThrownBy(() -> open(clt)).hasMessageStartingWith("unsupported format: ");

        // the weights alone say so too (a cfg.json edited down to the released keys)
        FormatWriters.writeString(clt.resolve("config.json"), "{\"sae\": {\"transcode\": true}}");
        for (int layer = 0; layer < 2; layer++) {
            FormatWriters.writeString(clt.resolve("layers." + layer + ".mlp/cfg.json"), "{\"num_latents\": 8, "
                    + "\"k\": 2, \"skip_connection\": true, \"transcode\": true, \"d_in\": 4}");
        }
        expect(clt, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "holds W_decs.0", "clt branch");
        assertThatThrownBy(() -> open(clt)).hasMessageStartingWith("unsupported format: ");
    }

    @Test
    void activationsOfUnreleasedBranchesAndForksAreAnUnsupportedFormat() {
        TranscoderWeights weights = TranscoderWeights.random(2, 8, 4, 17, false, false);
        for (String activation : new String[] {"batchtopk", "jumprelu", "binary"}) {
            Path run = FormatWriters.sparsify(dir.resolve(activation), weights, 2, (l, c) -> c.put("activation",
                    activation));
            expect(run, StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "activation '" + activation + "'",
                    "no released sparsify");
            assertThatThrownBy(() -> open(run)).hasMessageStartingWith("unsupported format: ");
        }
    }

    @Test
    void aRunWithSeveralSeedsSaysHowToPickOne() {
        Path run = dir.resolve("seeds");
        TranscoderWeights weights = TranscoderWeights.random(2, 8, 4, 16, false, false);
        for (int seed = 0; seed < 2; seed++) {
            Path one = FormatWriters.sparsify(dir.resolve("seed" + seed), weights, 2, (l, c) -> { });
            for (int layer = 0; layer < 2; layer++) {
                Path to = run.resolve("layers." + layer + ".mlp/seed" + seed);
                FormatWriters.createDirectories(to.getParent());
                try {
                    java.nio.file.Files.move(one.resolve("layers." + layer + ".mlp"), to);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
        expect(run, StandardErrorCode.INVALID_ARGUMENT, "one level down", "init_seeds", "seed0");
    }

    private static SparseDictionary open(Path run) {
        return new SparsifyProvider().create(DictionarySource.of(run));
    }

    private static void expect(Path run, ErrorCode code, String... fragments) {
        assertThatThrownBy(() -> open(run).close()).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
            assertThat(e.errorCode()).as(e.getMessage()).isEqualTo(code);
            for (String fragment : fragments) {
                assertThat(e.getMessage()).contains(fragment);
            }
        });
    }
}
