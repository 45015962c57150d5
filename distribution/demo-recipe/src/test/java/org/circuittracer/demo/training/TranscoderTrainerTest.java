package org.circuittracer.demo.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transcoder training on a synthetic sample whose outputs are sparse combinations of known directions: the trained
 * transcoders reconstruct most of the variance sparsely, and the files written in the reference layout are read back
 * by the ordinary loaders with the same activations.
 */
class TranscoderTrainerTest {

    private static final int D = 16;
    private static final int LAYERS = 2;

    /** y_l = Σ_k relu(⟨u_k, x⟩ − 1) v_k: 24 sparse "true features" per layer. */
    private static ActivationSample syntheticSample(int rows) {
        Random random = new Random(4);
        List<float[]> inputs = new ArrayList<>();
        List<float[]> outputs = new ArrayList<>();
        for (int l = 0; l < LAYERS; l++) {
            float[][] u = new float[24][D];
            float[][] v = new float[24][D];
            for (int k = 0; k < 24; k++) {
                for (int i = 0; i < D; i++) {
                    u[k][i] = (float) random.nextGaussian() / (float) Math.sqrt(D) * 1.5f;
                    v[k][i] = (float) random.nextGaussian();
                }
            }
            float[] x = new float[rows * D];
            float[] y = new float[rows * D];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < D; i++) {
                    x[r * D + i] = (float) random.nextGaussian();
                }
                for (int k = 0; k < 24; k++) {
                    float dot = 0;
                    for (int i = 0; i < D; i++) {
                        dot += u[k][i] * x[r * D + i];
                    }
                    float a = Math.max(0f, dot - 1f);
                    for (int i = 0; i < D; i++) {
                        y[r * D + i] += a * v[k][i];
                    }
                }
            }
            inputs.add(x);
            outputs.add(y);
        }
        return new ActivationSample(inputs, outputs, rows, D);
    }

    @Test
    void perLayerTranscodersReconstructSparselyAndRoundTrip(@TempDir Path dir) throws java.io.IOException {
        ActivationSample sample = syntheticSample(4000);
        TranscoderTrainer.Weights w = new TranscoderTrainer(new TranscoderTrainer.Settings(64, 600, 256, 1e-2f,
                1e-3f, 1)).train(sample, false, s -> { });
        List<TranscoderTrainer.LayerQuality> quality = TranscoderTrainer.quality(w, sample);
        System.out.println("synthetic per-layer: " + quality);
        assertThat(quality).allSatisfy(q -> {
            assertThat(q.fractionOfVarianceUnexplained()).isLessThan(0.1);
            assertThat(q.l0()).isLessThan(40);
        });
        TranscoderFiles.write(dir.resolve("plt"), w, DType.F32);
        try (SparseDictionary d = new ReferencePerLayerProvider().create(DictionarySource.of(dir.resolve("plt")))) {
            assertThat(d.layers()).isEqualTo(LAYERS);
            assertThat(d.readSite()).isEqualTo(SiteKind.MLP_IN);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT_RAW);
            assertThat(java.nio.file.Files.readString(dir.resolve("plt/config.yaml"))).doesNotContain("scan");
            assertThat(d.scan()).isEqualTo(dir.resolve("plt").toAbsolutePath().normalize().toString());
            assertSameActivations(d, w, sample);
        }
    }

    @Test
    void crossLayerTranscoderWritesEveryLaterLayer(@TempDir Path dir) {
        ActivationSample sample = syntheticSample(3000);
        TranscoderTrainer.Weights w = new TranscoderTrainer(new TranscoderTrainer.Settings(48, 400, 256, 1e-2f,
                1e-3f, 2)).train(sample, true, s -> { });
        List<TranscoderTrainer.LayerQuality> quality = TranscoderTrainer.quality(w, sample);
        System.out.println("synthetic cross-layer: " + quality);
        assertThat(quality).allSatisfy(q -> assertThat(q.fractionOfVarianceUnexplained()).isLessThan(0.15));
        TranscoderFiles.write(dir.resolve("clt"), w, DType.F32);
        try (SparseDictionary d = new ReferenceCrossLayerProvider().create(DictionarySource.of(dir.resolve("clt")))) {
            assertThat(d.outputLayers(0)).containsExactly(0, 1);
            assertThat(d.outputLayers(1)).containsExactly(1);
            assertSameActivations(d, w, sample);
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray rows = d.decoderRows(manager, 0, new int[] {5}, 1);
                float[] expected = new float[D];
                System.arraycopy(w.decoder().get(0), (5 * 2 + 1) * D, expected, 0, D);
                assertThat(rows.toFloatArray()).containsExactly(expected);
            }
        }
    }

    private static void assertSameActivations(SparseDictionary d, TranscoderTrainer.Weights w, ActivationSample s) {
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int l = 0; l < LAYERS; l++) {
                float[] x = java.util.Arrays.copyOf(s.inputs().get(l), 10 * D);
                NDArray acts = d.encode(manager, l, manager.create(x, new Shape(10, D)), Set.of());
                float[] actual = acts.toFloatArray();
                for (int r = 0; r < 10; r++) {
                    for (int f = 0; f < w.features(); f++) {
                        float pre = w.encoderBias().get(l)[f];
                        for (int k = 0; k < D; k++) {
                            pre += w.encoder().get(l)[f * D + k] * x[r * D + k];
                        }
                        assertThat(actual[r * w.features() + f]).isCloseTo(Math.max(0f, pre),
                                org.assertj.core.data.Offset.offset(1e-4f));
                    }
                }
            }
        }
    }
}
