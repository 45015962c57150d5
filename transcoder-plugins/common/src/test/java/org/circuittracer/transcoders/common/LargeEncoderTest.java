package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A per-layer transcoder whose {@code W_enc [F, d]} — or, as SAELens stores it, {@code W_encᵀ [d, F]} — is 2 GiB +
 * 16 MiB of float32 (as is its {@code W_dec}), in a sparse file: the header, the biases and a few encoder and decoder
 * rows are written, everything else is holes of zeros. Encoding, eager and lazy, gives exactly the directly computed
 * pre-activations at the written features — near the start, in the middle, on both sides of byte 2<sup>31</sup> and
 * at the very end — and the bias everywhere else; the heap allocated to open and encode stays a small fraction of the
 * encoder. The numbers are small integers and quarters, so every sum is exact in float32 whatever the order. Skipped
 * (with a message) where the file system has no sparse files.
 */
class LargeEncoderTest {

    private static final int WIDTH = 256;
    private static final int FEATURES = (1 << 21) + (1 << 14); // 2^31 / (4·256) + 16,384
    private static final long ROW_BYTES = (long) WIDTH * Float.BYTES;
    private static final long MATRIX_BYTES = FEATURES * ROW_BYTES;
    private static final int POSITIONS = 3;
    /** The first feature whose row starts at or beyond byte 2^31 of the encoder. */
    private static final int BEYOND_2GIB = (int) ((1L << 31) / ROW_BYTES);
    private static final int[] WRITTEN = {0, 3, FEATURES / 2 + 5, BEYOND_2GIB - 1, BEYOND_2GIB, FEATURES - 2,
            FEATURES - 1};

    @TempDir
    Path dir;

    private NDManager manager;

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
        manager.ones(new Shape(2, 2)).matMul(manager.ones(new Shape(2, 2))).close(); // the engine loaded
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    @ParameterizedTest(name = "stored transposed: {0}")
    @ValueSource(booleans = {false, true})
    void encodesAnEncoderOfMoreThan2GiBFromTheMappedFileExactly(boolean transposed) throws Exception {
        assertThat(MATRIX_BYTES).isGreaterThan(1L << 31);
        requireSparseFiles();
        Path path = dir.resolve("layer_0.safetensors");
        long started = System.nanoTime();
        writeSparseLayer(path, transposed);
        long onDisk = allocatedKiB(path);
        System.out.printf("LargeEncoderTest: wrote %s with %s: %d MiB apparent, %d MiB on disk, in %.1f s%n",
                path.getFileName(), encoderName(transposed), Files.size(path) >> 20, onDisk >> 10, seconds(started));
        assertThat(onDisk).as("KiB on disk of a sparse file").isLessThan(256 * 1024);

        float[] x = new float[POSITIONS * WIDTH];
        for (int t = 0; t < POSITIONS; t++) {
            for (int i = 0; i < WIDTH; i++) {
                x[t * WIDTH + i] = ((i * 3 + t * 5) % 7) - 3;
            }
        }
        float[] expected = new float[POSITIONS * FEATURES];
        for (int t = 0; t < POSITIONS; t++) {
            for (int f = 0; f < FEATURES; f++) {
                expected[t * FEATURES + f] = bias(f);
            }
            for (int f : WRITTEN) {
                float sum = 0;
                for (int i = 0; i < WIDTH; i++) {
                    sum += x[t * WIDTH + i] * encoderWeight(f, i);
                }
                expected[t * FEATURES + f] = sum + bias(f);
            }
        }
        NDArray input = manager.create(x, new Shape(POSITIONS, WIDTH));

        for (boolean lazy : new boolean[] {false, true}) {
            String mode = (lazy ? "lazy" : "eager") + " " + encoderName(transposed);
            Memory before = Memory.now();
            long opening = System.nanoTime();
            float[] h;
            try (SparseDictionary d = open(path, lazy, transposed)) {
                double openSeconds = seconds(opening);
                long encoding = System.nanoTime();
                NDArray preActivations = d.preActivations(manager, 0, input);
                double encodeSeconds = seconds(encoding);
                long encodingAgain = System.nanoTime();
                d.preActivations(manager, 0, input).close();
                double againSeconds = seconds(encodingAgain);
                Memory after = Memory.now();
                long heap = after.allocated() - before.allocated();
                long direct = after.direct() - before.direct();
                System.out.printf("LargeEncoderTest (%s): encoder %d MiB; opened in %.2f s; encoded %d positions in "
                                + "%.2f s (first touch of the mapped pages), again in %.2f s; heap allocated while "
                                + "opening and encoding twice %.1f MiB, direct memory in use %+.1f MiB%n",
                        mode, MATRIX_BYTES >> 20, openSeconds, POSITIONS, encodeSeconds, againSeconds,
                        heap / 1048576.0, direct / 1048576.0);
                assertThat(heap).as("heap allocated to open and encode (%s)", mode).isLessThan(64L << 20);
                // at most a few block-sized scratch buffers not yet collected, and the bias
                assertThat(direct).as("direct memory in use (%s)", mode).isLessThan(256L << 20);

                assertThat(preActivations.getShape()).isEqualTo(new Shape(POSITIONS, FEATURES));
                h = preActivations.toFloatArray();
                preActivations.close();

                NDArray rows = d.encoderRows(manager, 0, WRITTEN);
                float[] rowValues = rows.toFloatArray();
                for (int k = 0; k < WRITTEN.length; k++) {
                    for (int i = 0; i < WIDTH; i++) {
                        assertThat(rowValues[k * WIDTH + i]).isEqualTo(encoderWeight(WRITTEN[k], i));
                    }
                }
                int last = FEATURES - 1;
                assertThat(d.decoderRows(manager, 0, new int[] {last, 1}, 0).toFloatArray())
                        .containsExactly(concat(decoderRow(last), new float[WIDTH]));
                assertThat(d.capabilities()).as("a decoder over 2 GiB is gathered even when eager was asked")
                        .contains(DictionaryCapability.LAZY_DECODER);
                assertThat(d.capabilities().contains(DictionaryCapability.LAZY_ENCODER))
                        .as("lazy, or eager but F32 transposed over 2 GiB: read per call, not copied at open")
                        .isEqualTo(lazy || transposed);
            }
            int wrong = 0;
            StringBuilder examples = new StringBuilder();
            for (int k = 0; k < h.length; k++) {
                if (Float.floatToIntBits(h[k]) != Float.floatToIntBits(expected[k])) {
                    if (wrong++ < 10) {
                        examples.append(String.format(" [position %d, feature %d: %s, expected %s]", k / FEATURES,
                                k % FEATURES, h[k], expected[k]));
                    }
                }
            }
            assertThat(wrong).as("wrong pre-activations (%s):%s", mode, examples).isZero();
        }
    }

    // ------------------------------------------------------------------------------------------------ the file

    private static float bias(int f) {
        return ((f % 13) - 6) * 0.5f + 0.25f; // never 0, so no signed zeros to compare
    }

    private static float encoderWeight(int f, int i) {
        return ((i * 7 + f) % 9) - 4;
    }

    private static float[] decoderRow(int f) {
        float[] row = new float[WIDTH];
        for (int i = 0; i < WIDTH; i++) {
            row[i] = (f % 5) + i * 0.5f;
        }
        return row;
    }

    private static String encoderName(boolean transposed) {
        return transposed ? "W_encT [d, F]" : "W_enc [F, d]";
    }

    private SparseDictionary open(Path path, boolean lazy, boolean transposed) {
        SafetensorsFile file = SafetensorsFile.open(path);
        try {
            var source = new Transcoders.SourceLayer(RowMatrix.of(file, "W_enc"), WeightVector.read(file, "b_enc"),
                    new ActivationFunction.Relu(), Optional.empty(), List.of(RowMatrix.of(file, "W_dec")),
                    transposed);
            var output = new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), Optional.empty());
            Transcoders spec = new Transcoders("test", "test", SiteKind.MLP_IN, SiteKind.MLP_OUT, WIDTH,
                    List.of(source), List.of(output));
            return TranscoderDictionary.open(spec, lazy, false, Optional.empty(), List.of(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * {@code b_dec [d]}, {@code b_enc [F]}, {@code W_enc [F, d]} (or, transposed, {@code [d, F]}), {@code W_dec [F, d]},
     * F32, in this order; the matrices are holes except the written rows (columns).
     */
    private static void writeSparseLayer(Path path, boolean transposed) throws IOException {
        long bDec = 0;
        long bEnc = bDec + ROW_BYTES;
        long wEnc = bEnc + (long) FEATURES * Float.BYTES;
        long wDec = wEnc + MATRIX_BYTES;
        long end = wDec + MATRIX_BYTES;
        String json = "{\"b_dec\":{\"dtype\":\"F32\",\"shape\":[" + WIDTH + "],\"data_offsets\":[" + bDec + "," + bEnc
                + "]},\"b_enc\":{\"dtype\":\"F32\",\"shape\":[" + FEATURES + "],\"data_offsets\":[" + bEnc + ","
                + wEnc + "]},\"W_enc\":{\"dtype\":\"F32\",\"shape\":["
                + (transposed ? WIDTH + "," + FEATURES : FEATURES + "," + WIDTH)
                + "],\"data_offsets\":[" + wEnc + "," + wDec + "]},\"W_dec\":{\"dtype\":\"F32\",\"shape\":["
                + FEATURES + "," + WIDTH + "],\"data_offsets\":[" + wDec + "," + end + "]}}";
        StringBuilder padded = new StringBuilder(json);
        while ((8 + padded.length()) % 64 != 0) {
            padded.append(' '); // the data 64-byte aligned, as the Python library writes it
        }
        byte[] header = padded.toString().getBytes(StandardCharsets.UTF_8);
        long data = 8 + header.length;
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw"); FileChannel channel = raf.getChannel()) {
            ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            start.putLong(header.length).put(header).flip();
            writeFully(channel, start, 0);
            writeFully(channel, floats(new float[WIDTH]), data + bDec);
            float[] biases = new float[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                biases[f] = bias(f);
            }
            writeFully(channel, floats(biases), data + bEnc);
            for (int f : WRITTEN) {
                float[] row = new float[WIDTH];
                for (int i = 0; i < WIDTH; i++) {
                    row[i] = encoderWeight(f, i);
                    if (transposed) { // column f of [d, F]
                        writeFully(channel, floats(new float[] {row[i]}),
                                data + wEnc + ((long) i * FEATURES + f) * Float.BYTES);
                    }
                }
                if (!transposed) {
                    writeFully(channel, floats(row), data + wEnc + f * ROW_BYTES);
                }
            }
            writeFully(channel, floats(decoderRow(FEATURES - 1)), data + wDec + (FEATURES - 1) * ROW_BYTES);
            raf.setLength(data + end); // the rest: holes
        }
    }

    private static ByteBuffer floats(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    /** Skips the test where a file of 64 MiB of holes takes real space (no sparse files) or du is missing. */
    private void requireSparseFiles() throws IOException, InterruptedException {
        Assumptions.assumeTrue(dir.toFile().getUsableSpace() > (1L << 30),
                "LargeEncoderTest needs 1 GiB of free disk space in " + dir);
        Path probe = dir.resolve("probe");
        try (RandomAccessFile raf = new RandomAccessFile(probe.toFile(), "rw")) {
            raf.setLength(64L << 20);
        }
        long kib = allocatedKiB(probe);
        Files.delete(probe);
        Assumptions.assumeTrue(kib >= 0 && kib < 8 * 1024, "LargeEncoderTest needs sparse files, but a file of 64 MiB "
                + "of holes takes " + kib + " KiB on the file system of " + dir + "; skipped");
    }

    /** {@code du -k}: the KiB the file really takes, or -1 if du failed. */
    private static long allocatedKiB(Path file) throws IOException, InterruptedException {
        Process du = new ProcessBuilder("du", "-k", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!du.waitFor(30, TimeUnit.SECONDS) || du.exitValue() != 0) {
            return -1;
        }
        try {
            return Long.parseLong(out.split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Bytes this thread allocated on the heap so far, and the direct buffers in use. */
    private record Memory(long allocated, long direct) {
        static Memory now() {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            return new Memory(threads.getCurrentThreadAllocatedBytes(), direct);
        }
    }
}
