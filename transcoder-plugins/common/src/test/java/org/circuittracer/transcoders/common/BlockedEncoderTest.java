package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encoding block by block gives bit for bit what one product with the whole encoder gives (the computation before
 * blocking), for every layout the formats use — {@code W_enc [F, d]}, {@code W_encᵀ [d, F]}, and either as a column
 * block of a wider tensor — in F32, F16 and BF16, eager and lazy, with blocks of 64 features (the last block shorter),
 * for one position and several. Every pre-activation is the same dot product over {@code d} either way; blocks of a
 * width that is no multiple of 64 (7, 1: never used outside tests) may make the engine choose other kernels, and agree
 * to float rounding.
 */
class BlockedEncoderTest {

    private static final int FEATURES = 1000;
    private static final int WIDTH = 24;
    /**
     * Block sizes in bytes: one block (the whole encoder); 64 features (the rounding of every real block size: a
     * multiple of 64 features, here with a last block of 40); 7 and 1 feature(s), which only tests reach.
     */
    private static final long[] BLOCK_BYTES = {Long.MAX_VALUE, 64L * WIDTH * 4, 7L * WIDTH * 4, 1};

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

    private record Layout(String name, DType dtype, boolean transposed, boolean columnBlock) {
        String tensor() {
            return name;
        }
    }

    private float[] encoder;
    private float[] bias;
    private final List<Layout> layouts = new ArrayList<>();

    @BeforeEach
    void writeWeights() {
        Random random = new Random(11);
        encoder = new float[FEATURES * WIDTH];
        for (int i = 0; i < encoder.length; i++) {
            encoder[i] = (float) random.nextGaussian();
        }
        bias = new float[FEATURES];
        for (int f = 0; f < FEATURES; f++) {
            bias[f] = (float) random.nextGaussian() * 0.1f;
        }
        SafetensorsWriter writer = new SafetensorsWriter()
                .addFloats("b_enc", new long[] {FEATURES}, bias)
                .addFloats("W_dec", new long[] {FEATURES, WIDTH}, encoder)
                .addFloats("b_dec", new long[] {WIDTH}, new float[WIDTH]);
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            String suffix = "_" + dtype;
            writer.addFloats("W_enc" + suffix, dtype, new long[] {FEATURES, WIDTH}, encoder);
            writer.addFloats("W_encT" + suffix, dtype, new long[] {WIDTH, FEATURES}, transpose(encoder));
            // the encoder as the second column block of wider tensors (the first block: other numbers)
            writer.addFloats("W_wide" + suffix, dtype, new long[] {FEATURES, 2 * WIDTH}, sideBySide(
                    transpose(encoder), encoder, FEATURES, WIDTH));
            writer.addFloats("W_wideT" + suffix, dtype, new long[] {WIDTH, 2 * FEATURES},
                    sideBySide(encoder, transpose(encoder), WIDTH, FEATURES));
            layouts.add(new Layout("W_enc" + suffix, dtype, false, false));
            layouts.add(new Layout("W_encT" + suffix, dtype, true, false));
            layouts.add(new Layout("W_wide" + suffix, dtype, false, true));
            layouts.add(new Layout("W_wideT" + suffix, dtype, true, true));
        }
        writer.write(dir.resolve("w.safetensors"));
    }

    @Test
    void blocksGiveExactlyTheWholeProductInEveryLayoutAndDtype() {
        List<NDArray> inputs = List.of(manager.randomNormal(new Shape(1, WIDTH)),
                manager.randomNormal(new Shape(5, WIDTH)));
        int[] someFeatures = {999, 0, 63, 64, 500, 64, 7, 998};
        int checked = 0;
        for (Layout layout : layouts) {
            for (NDArray x : inputs) {
                float[] whole = null;
                float[] wholeEncoded = null;
                for (long blockBytes : BLOCK_BYTES) {
                    for (boolean lazy : new boolean[] {false, true}) {
                        try (SparseDictionary d = open(layout, lazy, blockBytes)) {
                            float[] h = d.preActivations(manager, 0, x).toFloatArray();
                            float[] a = d.encode(manager, 0, x, Set.of(1)).toFloatArray();
                            if (whole == null) {
                                whole = h;
                                wholeEncoded = a;
                                assertCloseToDirect(h, x.toFloatArray(), encoder, bias, layout.dtype());
                            }
                            String what = layout + " T=" + x.getShape().get(0) + " block bytes " + blockBytes
                                    + " lazy " + lazy;
                            if (blockBytes % (64L * WIDTH * 4) == 0) { // blocks of a multiple of 64 features
                                assertThat(h).as(what).containsExactly(whole);
                                assertThat(a).as(what).containsExactly(wholeEncoded);
                            } else { // the same dot products; the engine may pick other kernels for odd widths
                                assertThat(h).as(what).containsExactly(whole, within(1e-4f));
                            }
                            assertThat(d.encoderRows(manager, 0, someFeatures).toFloatArray()).as(what)
                                    .containsExactly(rows(readBack(layout, encoder), someFeatures));
                            checked++;
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(12 * 2 * BLOCK_BYTES.length * 2);
    }

    @Test
    void blockCountsAndShapes() {
        SafetensorsFile small = writeSmall();
        try (small) {
            var f32 = new Transcoders.SourceLayer(RowMatrix.of(small, "W_enc"), new WeightVector(new float[FEATURES],
                    "b"), new ActivationFunction.Relu(), Optional.empty(), List.of());
            var bf16 = new Transcoders.SourceLayer(RowMatrix.of(small, "W_enc_bf16"), new WeightVector(
                    new float[FEATURES], "b"), new ActivationFunction.Relu(), Optional.empty(), List.of());
            long asTests = 100L * WIDTH * 4; // 100 features → 64
            EncoderBlocks sixtyFour = new EncoderBlocks(f32, WIDTH, asTests, asTests);
            assertThat(sixtyFour.blocks()).isEqualTo(16);
            assertThat(sixtyFour.first(15)).isEqualTo(960);
            assertThat(sixtyFour.count(15)).isEqualTo(40);
            EncoderBlocks seven = new EncoderBlocks(f32, WIDTH, 7L * WIDTH * 4, 0);
            assertThat(seven.blocks()).isEqualTo(143);
            assertThat(seven.count(142)).isEqualTo(6);
            // as opened for real: an F32 encoder that one buffer holds is one block (the view), others are cut
            assertThat(new EncoderBlocks(f32, WIDTH, asTests, Integer.MAX_VALUE).blocks()).isEqualTo(1);
            assertThat(new EncoderBlocks(bf16, WIDTH, asTests, Integer.MAX_VALUE).blocks()).isEqualTo(16);
            assertThat(new EncoderBlocks(bf16, WIDTH, asTests, Integer.MAX_VALUE).copies()).isTrue();
            assertThat(new EncoderBlocks(f32, WIDTH, asTests, Integer.MAX_VALUE).copies()).isFalse();
        }
    }

    @Test
    void gatherColumnsReadsAnyColumnsInAnyOrder() {
        Random random = new Random(2);
        int rows = 9;
        int cols = 70_000; // more than one read span
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        new SafetensorsWriter().addFloats("m", DType.BF16, new long[] {rows, cols}, values)
                .write(dir.resolve("m.safetensors"));
        try (SafetensorsFile file = SafetensorsFile.open(dir.resolve("m.safetensors"))) {
            float[] widened = file.readFloats("m");
            int[] ids = {69_999, 5, 5, 0, 300, 301, 65_600, 40_000, 12, 69_998};
            float[] got = RowMatrix.of(file, "m").gatherColumns(manager, ids).toFloatArray();
            for (int i = 0; i < ids.length; i++) {
                for (int r = 0; r < rows; r++) {
                    assertThat(got[i * rows + r]).as("column %d row %d", ids[i], r)
                            .isEqualTo(widened[r * cols + ids[i]]);
                }
            }
            int[] all = IntStream.range(0, cols).toArray();
            float[] transposed = RowMatrix.of(file, "m").gatherColumns(manager, all).toFloatArray();
            for (int c = 0; c < cols; c++) {
                for (int r = 0; r < rows; r++) {
                    if (transposed[c * rows + r] != widened[r * cols + c]) {
                        throw new AssertionError("column " + c + " row " + r);
                    }
                }
            }
            assertThat(RowMatrix.columns(file, "m", 100, 50).gatherColumns(manager, new int[] {0, 49})
                    .toFloatArray()).containsExactly(concat(column(widened, cols, rows, 100), column(widened, cols,
                    rows, 149)));
        }
    }

    @Test
    void anEagerDictionaryWhoseDecodersFitOneBufferIsNotLazy() {
        try (SparseDictionary d = open(new Layout("W_enc_F32", DType.F32, false, false), false, Long.MAX_VALUE)) {
            assertThat(d.capabilities()).doesNotContain(DictionaryCapability.LAZY_DECODER,
                    DictionaryCapability.LAZY_ENCODER);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private SparseDictionary open(Layout layout, boolean lazy, long blockBytes) {
        SafetensorsFile file = SafetensorsFile.open(dir.resolve("w.safetensors"));
        try {
            RowMatrix matrix = layout.columnBlock()
                    ? RowMatrix.columns(file, layout.tensor(), layout.transposed() ? FEATURES : WIDTH,
                    layout.transposed() ? FEATURES : WIDTH)
                    : RowMatrix.of(file, layout.tensor());
            var source = new Transcoders.SourceLayer(matrix, WeightVector.read(file, "b_enc"),
                    new ActivationFunction.Relu(), Optional.empty(), List.of(RowMatrix.of(file, "W_dec")),
                    layout.transposed());
            var output = new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), Optional.empty());
            Transcoders spec = new Transcoders("test", "test", SiteKind.MLP_IN, SiteKind.MLP_OUT, WIDTH,
                    List.of(source), List.of(output));
            return TranscoderDictionary.open(spec, lazy, lazy, Optional.empty(), List.of(file), blockBytes);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private SafetensorsFile writeSmall() {
        Path path = dir.resolve("small.safetensors");
        new SafetensorsWriter().addFloats("W_enc", new long[] {FEATURES, WIDTH}, new float[FEATURES * WIDTH])
                .addFloats("W_enc_bf16", DType.BF16, new long[] {FEATURES, WIDTH}, new float[FEATURES * WIDTH])
                .write(path);
        return SafetensorsFile.open(path);
    }

    /** The encoder as the layout's dtype stores it, widened back. */
    private float[] readBack(Layout layout, float[] encoder) {
        Path path = dir.resolve("roundtrip_" + layout.dtype() + ".safetensors");
        if (!path.toFile().exists()) {
            new SafetensorsWriter().addFloats("e", layout.dtype(), new long[] {FEATURES, WIDTH}, encoder).write(path);
        }
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            return file.readFloats("e");
        }
    }

    private static void assertCloseToDirect(float[] h, float[] x, float[] encoder, float[] bias, DType dtype) {
        double tolerance = dtype == DType.F32 ? 1e-4 : dtype == DType.F16 ? 2e-2 : 2e-1;
        int length = x.length / WIDTH;
        for (int t = 0; t < length; t++) {
            for (int f = 0; f < FEATURES; f++) {
                double sum = bias[f];
                for (int i = 0; i < WIDTH; i++) {
                    sum += (double) x[t * WIDTH + i] * encoder[f * WIDTH + i];
                }
                assertThat((double) h[t * FEATURES + f]).isCloseTo(sum, within(tolerance));
            }
        }
    }

    private static float[] rows(float[] matrix, int[] ids) {
        float[] out = new float[ids.length * WIDTH];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(matrix, ids[i] * WIDTH, out, i * WIDTH, WIDTH);
        }
        return out;
    }

    private static float[] column(float[] matrix, int cols, int rows, int c) {
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = matrix[r * cols + c];
        }
        return out;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code [F, d]} → {@code [d, F]}. */
    private static float[] transpose(float[] encoder) {
        float[] out = new float[encoder.length];
        for (int f = 0; f < FEATURES; f++) {
            for (int i = 0; i < WIDTH; i++) {
                out[i * FEATURES + f] = encoder[f * WIDTH + i];
            }
        }
        return out;
    }

    /** Two {@code [rows, cols]} matrices side by side: {@code [rows, 2·cols]}. */
    private static float[] sideBySide(float[] left, float[] right, int rows, int cols) {
        float[] out = new float[2 * rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(left, r * cols, out, r * 2 * cols, cols);
            System.arraycopy(right, r * cols, out, r * 2 * cols + cols, cols);
        }
        return out;
    }
}
