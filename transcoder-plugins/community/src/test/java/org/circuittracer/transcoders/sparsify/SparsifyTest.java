package org.circuittracer.transcoders.sparsify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.SameComputation;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.circuittracer.transcoders.nativeformat.NativeFormatProvider;
import org.circuittracer.transcoders.nativeformat.NativeFormatWriter;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sparsify transcoders: MLP input and output, ReLU after TopK, a skip connection; what is not read is refused. */
class SparsifyTest {

    @TempDir
    Path dir;

    private int counter;

    @Test
    void mlpTranscodersReadTheMlpInputAndWriteItsOutputAsTheReferenceFormatWould() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 4, false, true);
        Path sparsify = FormatWriters.sparsify(dir.resolve("sparsify"), weights, 2, (l, c) -> { });
        Path reference = FormatWriters.reference(dir.resolve("reference"), weights, SiteKind.MLP_IN,
                SiteKind.MLP_OUT_RAW, Optional.of(new ActivationFunction.TopK(2)));
        try (SparseDictionary actual = open(sparsify);
             SparseDictionary expected = new ReferencePerLayerProvider().create(DictionarySource.of(reference))) {
            assertThat(actual.activation(1)).isEqualTo(Nonlinearity.ReluTopK.function(2));
            // with k = 2 of ~11 positive pre-activations per position, TopK and ReLU after TopK agree
            SameComputation.assertSame(expected, actual, false);
        }
    }

    @Test
    void reluAfterTopKSurvivesConversionToTheCircuitTracerFormat() {
        Path sparsify = FormatWriters.sparsify(dir.resolve("sparsify"), TranscoderWeights.random(3, 32, 16, 5, false,
                false), 30, (l, c) -> { });
        try (SparseDictionary original = open(sparsify); NDManager scope = NDManager.newBaseManager()) {
            // k = 30 of 32 features, about 11 of them positive: only the positive ones are active
            NDArray x = scope.randomNormal(new Shape(8, 16));
            float[] h = original.preActivations(scope, 0, x).toFloatArray();
            SparseActivations active = original.encodeSparse(scope, 0, x, Set.of());
            float[] values = active.values();
            assertThat(IntStream.range(0, values.length).allMatch(i -> values[i] > 0)).as("no negative activation")
                    .isTrue();
            assertThat(active.size()).isEqualTo((int) IntStream.range(0, h.length).filter(i -> h[i] > 0).count());
            NativeFormatWriter.write(original, dir.resolve("converted"));
            try (SparseDictionary converted = new NativeFormatProvider().create(DictionarySource.of(
                    dir.resolve("converted")))) {
                SameComputation.assertSame(original, converted);
            }
        }
    }

    @Test
    void otherHookPointsNeedTheSitesAsOptions() throws IOException {
        Path set = FormatWriters.sparsify(dir.resolve("set"), TranscoderWeights.random(3, 32, 16, 6, false, false), 4,
                (l, c) -> { });
        for (int layer = 0; layer < 3; layer++) {
            Files.move(set.resolve("layers." + layer + ".mlp"), set.resolve("model.layers." + layer + ".post_mlp"));
        }
        expect(() -> open(set), StandardErrorCode.INVALID_ARGUMENT, "'model.layers.0.post_mlp' is not an MLP module",
                "readSite and writeSite");
        try (SparseDictionary d = new SparsifyProvider().create(new DictionarySource(set, false, true,
                Map.of("readSite", "ln2.hook_normalized", "writeSite", "hook_mlp_out")))) {
            assertThat(d.readSite()).isEqualTo(SiteKind.LN2_NORMALIZED);
            assertThat(d.writeSite()).isEqualTo(SiteKind.MLP_OUT);
            assertThat(d.layers()).isEqualTo(3);
        }
    }

    @Test
    void whatIsNotReadIsRefusedAndBadSetsFailClearly() {
        TranscoderWeights weights = TranscoderWeights.random(3, 32, 16, 7, false, false);
        expectWith(weights, (l, cfg) -> cfg.put("transcode", false), StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                "plain sparse autoencoder");
        expectWith(weights, (l, cfg) -> cfg.put("activation", "groupmax"), StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                "activation 'groupmax'");
        expectWith(weights, (l, cfg) -> cfg.put("embed_skip", true), StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                "embed_skip");
        expectWith(weights, (l, cfg) -> cfg.put("num_latents", 31), StandardErrorCode.MALFORMED_FILE,
                "sae.safetensors has W_dec [32, 16]; expected [31, 16]");
        expectWith(weights, (l, cfg) -> cfg.put("skip_connection", l == 1), StandardErrorCode.MALFORMED_FILE,
                "has no tensor W_skip");

        Path gap = FormatWriters.sparsify(dir.resolve("gap"), weights, 4, (l, c) -> { });
        delete(gap.resolve("layers.1.mlp"));
        expect(() -> open(gap), StandardErrorCode.MALFORMED_FILE, "layer 1 has none");
        Path twice = FormatWriters.sparsify(dir.resolve("twice"), weights, 4, (l, c) -> { });
        copy(twice.resolve("layers.1.mlp"), twice.resolve("model.layers.1.mlp"));
        expect(() -> open(twice), StandardErrorCode.MALFORMED_FILE, "Two sparsify transcoders are for layer 1");
        expect(() -> new SparsifyProvider().create(new DictionarySource(twice, false, true, Map.of("k", "8"))),
                StandardErrorCode.INVALID_ARGUMENT, "Unknown option [k]");
    }

    private void expectWith(TranscoderWeights weights, BiConsumer<Integer, ObjectNode> edit, ErrorCode code,
                            String... fragments) {
        Path set = FormatWriters.sparsify(dir.resolve("case-" + counter++), weights, 4, edit);
        expect(() -> open(set), code, fragments);
    }

    private static SparseDictionary open(Path directory) {
        return new SparsifyProvider().create(DictionarySource.of(directory));
    }

    private static void delete(Path directory) {
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
            Files.delete(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(Path from, Path to) {
        try (var files = Files.list(from)) {
            Files.createDirectories(to);
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
