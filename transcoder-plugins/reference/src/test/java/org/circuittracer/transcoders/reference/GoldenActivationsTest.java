package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The six fixture sets on the tiny models' golden prompts: activations equal the reference's, the reconstruction
 * equals an independent host computation from the raw files, and the reconstruction error against the real MLP
 * outputs is printed per layer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GoldenActivationsTest {

    private static final int PROMPTS = 3;
    private static final Set<Integer> BOS = Set.of(0);

    private NDManager manager;

    @BeforeAll
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    void closeManager() {
        manager.close();
    }

    static Stream<String> sets() {
        return Stream.of("llama-plt-relu", "llama-plt-relu-skip", "llama-clt-relu", "gemma2-plt-jumprelu",
                "gpt2-plt-relu", "qwen3-plt-relu", "gemma3-plt-relu");
    }

    /** One fixture set with its model's goldens and the reference activations. */
    private record Fixture(String name, Path dir, ReferenceConfig config, SafetensorsFile golden,
                           SafetensorsFile reference, double eps) implements AutoCloseable {

        static Fixture open(String name) {
            Path dir = SharedFixtures.resolve("tiny-transcoders/" + name);
            ReferenceConfig config = ReferenceConfig.read(dir);
            Path model = SharedFixtures.resolve(config.modelName().orElseThrow());
            return new Fixture(name, dir, config, SafetensorsFile.open(model.resolve("golden.safetensors")),
                    SafetensorsFile.open(dir.resolve("reference_activations.safetensors")), rmsNormEps(model));
        }

        SparseDictionary dictionary(boolean lazy) {
            var provider = config.modelKind() == ModelKind.TRANSCODER_SET
                    ? new ReferencePerLayerProvider() : new ReferenceCrossLayerProvider();
            return provider.create(new DictionarySource(dir, lazy, lazy, Map.of()));
        }

        /** The value at the input site: {@code [T, d]}. */
        float[] input(int prompt, int layer) {
            String prefix = "p" + prompt + ".layers." + layer + ".";
            return switch (config.featureInputHook()) {
                case RESID_MID -> golden.readFloats(prefix + "resid_mid");
                case MLP_IN -> golden.readFloats(prefix + "mlp_in");
                case LN2_NORMALIZED -> rmsNormalize(golden.readFloats(prefix + "resid_mid"), width(), eps);
                default -> throw new AssertionError(config.featureInputHook());
            };
        }

        /** The value at the output site: {@code [T, d]}. */
        float[] output(int prompt, int layer) {
            String prefix = "p" + prompt + ".layers." + layer + ".";
            boolean raw = config.featureOutputHook() == SiteKind.MLP_OUT_RAW && golden.contains(prefix + "mlp_out_raw");
            return golden.readFloats(prefix + (raw ? "mlp_out_raw" : "mlp_out"));
        }

        int length(int prompt) {
            return Math.toIntExact(golden.info("p" + prompt + ".input_ids").dim(0));
        }

        int width() {
            return Math.toIntExact(golden.info("p0.layers.0.resid_mid").dim(1));
        }

        @Override
        public void close() {
            golden.close();
            reference.close();
        }
    }

    private static double rmsNormEps(Path model) {
        try {
            JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
            return config.has("rms_norm_eps") ? config.get("rms_norm_eps").asDouble()
                    : config.get("layer_norm_epsilon").asDouble();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code x·rsqrt(mean(x²) + eps)} per row: the RMS norm before its gain. */
    private static float[] rmsNormalize(float[] x, int width, double eps) {
        float[] out = new float[x.length];
        for (int row = 0; row < x.length / width; row++) {
            double meanSquare = 0;
            for (int i = 0; i < width; i++) {
                meanSquare += (double) x[row * width + i] * x[row * width + i];
            }
            float scale = (float) (1 / Math.sqrt(meanSquare / width + eps));
            for (int i = 0; i < width; i++) {
                out[row * width + i] = x[row * width + i] * scale;
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void activationsEqualTheReferenceActivations(String name) {
        try (Fixture fixture = Fixture.open(name); SparseDictionary d = fixture.dictionary(false);
             NDManager scope = manager.newSubManager()) {
            for (int prompt = 0; prompt < PROMPTS; prompt++) {
                for (int layer = 0; layer < d.layers(); layer++) {
                    String where = name + " prompt " + prompt + " layer " + layer;
                    String key = "p" + prompt + ".layer" + layer + ".";
                    NDArray x = scope.create(fixture.input(prompt, layer), new Shape(fixture.length(prompt), d.width()));
                    assertThat(d.preActivations(scope, layer, x).toFloatArray()).as(where + " pre-activations")
                            .containsExactly(fixture.reference().readFloats(key + "pre_activations"), within(1e-5f));
                    float[] expected = fixture.reference().readFloats(key + "activations");
                    float[] actual = d.encode(scope, layer, x, Set.of()).toFloatArray();
                    assertThat(activeSet(actual)).as(where + " active features").isEqualTo(activeSet(expected));
                    assertThat(actual).as(where + " activations").containsExactly(expected, within(1e-5f));
                    assertThat(d.encodeSparse(scope, layer, x, Set.of()).size()).as(where + " sparse size")
                            .isEqualTo(activeSet(expected).size());
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void reconstructionEqualsTheHostComputationFromTheFilesAndTheErrorIsReported(String name) {
        try (Fixture fixture = Fixture.open(name); SparseDictionary d = fixture.dictionary(false);
             NDManager scope = manager.newSubManager()) {
            int width = d.width();
            StringBuilder report = new StringBuilder(name + " (" + d.readSite().hookName() + " → "
                    + d.writeSite().hookName() + "), relative error ‖y − ŷ‖/‖y‖ per layer, positions ≥ 1:");
            for (int out = 0; out < d.layers(); out++) {
                double errorSquares = 0;
                double outputSquares = 0;
                for (int prompt = 0; prompt < PROMPTS; prompt++) {
                    int length = fixture.length(prompt);
                    List<SparseActivations> codes = new ArrayList<>();
                    for (int source = 0; source <= out; source++) {
                        if (writes(d, source, out)) {
                            NDArray x = scope.create(fixture.input(prompt, source), new Shape(length, width));
                            codes.add(d.encodeSparse(scope, source, x, BOS));
                        }
                    }
                    float[] xOut = fixture.input(prompt, out);
                    float[] reconstruction = d.decode(scope, out, codes,
                            scope.create(xOut, new Shape(length, width))).toFloatArray();
                    float[] host = HostTranscoder.reconstruct(fixture.dir(), fixture.config(), fixture.reference(),
                            prompt, out, length, xOut, BOS);
                    assertThat(reconstruction).as("%s prompt %d output layer %d: decode vs host", name, prompt, out)
                            .containsExactly(host, within(1e-4f * (1 + maxAbs(host))));
                    float[] y = fixture.output(prompt, out);
                    for (int i = width; i < y.length; i++) { // position 0 (BOS) is a constant, not reconstructed
                        float error = y[i] - reconstruction[i];
                        assertThat(reconstruction[i] + error).isCloseTo(y[i], within(1e-6f * (1 + Math.abs(y[i]))));
                        errorSquares += (double) error * error;
                        outputSquares += (double) y[i] * y[i];
                    }
                }
                double relative = Math.sqrt(errorSquares / outputSquares);
                report.append(String.format(" L%d %.4f", out, relative));
                assertThat(relative).as("%s layer %d relative error", name, out).isFinite().isLessThan(1);
            }
            System.out.println(report);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sets")
    void lazyAndEagerAgreeExactlyOnTheGoldenPrompts(String name) {
        try (Fixture fixture = Fixture.open(name); SparseDictionary eager = fixture.dictionary(false);
             SparseDictionary lazy = fixture.dictionary(true); NDManager scope = manager.newSubManager()) {
            for (int prompt = 0; prompt < PROMPTS; prompt++) {
                int length = fixture.length(prompt);
                List<SparseActivations> codes = new ArrayList<>();
                for (int layer = 0; layer < eager.layers(); layer++) {
                    NDArray x = scope.create(fixture.input(prompt, layer), new Shape(length, eager.width()));
                    SparseActivations code = eager.encodeSparse(scope, layer, x, BOS);
                    assertThat(lazy.encodeSparse(scope, layer, x, BOS)).isEqualTo(code);
                    codes.add(code);
                    int out = layer;
                    List<SparseActivations> writers = codes.stream().filter(c -> writes(eager, c.layer(), out)).toList();
                    assertThat(lazy.decode(scope, layer, writers, x).toFloatArray())
                            .containsExactly(eager.decode(scope, layer, writers, x).toFloatArray());
                }
            }
        }
    }

    private static boolean writes(SparseDictionary d, int source, int out) {
        return IntStream.of(d.outputLayers(source)).anyMatch(l -> l == out);
    }

    private static Set<Integer> activeSet(float[] activations) {
        return IntStream.range(0, activations.length).filter(i -> activations[i] != 0).boxed()
                .collect(Collectors.toSet());
    }

    private static float maxAbs(float[] values) {
        float max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
