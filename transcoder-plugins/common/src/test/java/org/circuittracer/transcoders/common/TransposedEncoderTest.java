package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An encoder stored {@code W_encᵀ [d, F]} gives what the same encoder stored {@code [F, d]} gives, lazy or eager. */
class TransposedEncoderTest {

    private static final int FEATURES = 12;
    private static final int WIDTH = 5;

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

    @Test
    void bothOrientationsEncodeAlikeAndGiveTheSameRows() {
        Random random = new Random(5);
        float[] encoder = new float[FEATURES * WIDTH];
        float[] transposed = new float[FEATURES * WIDTH];
        for (int f = 0; f < FEATURES; f++) {
            for (int i = 0; i < WIDTH; i++) {
                encoder[f * WIDTH + i] = (float) random.nextGaussian();
                transposed[i * FEATURES + f] = encoder[f * WIDTH + i];
            }
        }
        new SafetensorsWriter()
                .addFloats("W_enc", new long[] {FEATURES, WIDTH}, encoder)
                .addFloats("W_encT", new long[] {WIDTH, FEATURES}, transposed)
                .addFloats("b_enc", new long[] {FEATURES}, new float[FEATURES])
                .addFloats("W_dec", new long[] {FEATURES, WIDTH}, encoder)
                .addFloats("b_dec", new long[] {WIDTH}, new float[WIDTH])
                .write(dir.resolve("w.safetensors"));
        NDArray x = manager.randomNormal(new Shape(4, WIDTH));
        int[] all = IntStream.range(0, FEATURES).toArray();
        float[][] results = new float[4][];
        int i = 0;
        for (boolean storedTransposed : new boolean[] {false, true}) {
            for (boolean lazy : new boolean[] {false, true}) {
                try (SparseDictionary d = open(storedTransposed, lazy)) {
                    float[] rows = d.encoderRows(manager, 0, all).toFloatArray();
                    assertThat(rows).as("encoder rows, transposed=%s lazy=%s", storedTransposed, lazy)
                            .containsExactly(encoder);
                    results[i++] = d.encode(manager, 0, x, Set.of()).toFloatArray();
                }
            }
        }
        for (float[] result : results) {
            assertThat(result).containsExactly(results[0], org.assertj.core.data.Offset.offset(1e-6f));
        }
    }

    @Test
    void aTransposedEncoderMustBeDByF() {
        new SafetensorsWriter()
                .addFloats("W_encT", new long[] {FEATURES, WIDTH}, new float[FEATURES * WIDTH])
                .addFloats("b_enc", new long[] {FEATURES}, new float[FEATURES])
                .addFloats("W_dec", new long[] {FEATURES, WIDTH}, new float[FEATURES * WIDTH])
                .addFloats("b_dec", new long[] {WIDTH}, new float[WIDTH])
                .write(dir.resolve("w.safetensors"));
        assertThatThrownBy(() -> open(true, false)).isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("W_encT").hasMessageContaining("[" + WIDTH + ", " + FEATURES + "]");
    }

    private SparseDictionary open(boolean storedTransposed, boolean lazy) {
        SafetensorsFile file = SafetensorsFile.open(dir.resolve("w.safetensors"));
        try {
            var source = new Transcoders.SourceLayer(RowMatrix.of(file, storedTransposed ? "W_encT" : "W_enc"),
                    WeightVector.read(file, "b_enc"), new ActivationFunction.Relu(), Optional.empty(),
                    List.of(RowMatrix.of(file, "W_dec")), storedTransposed);
            var output = new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), Optional.empty());
            Transcoders spec = new Transcoders("test", "test", SiteKind.MLP_IN, SiteKind.MLP_OUT, WIDTH,
                    List.of(source), List.of(output));
            return TranscoderDictionary.open(spec, lazy, lazy, Optional.empty(), List.of(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }
}
