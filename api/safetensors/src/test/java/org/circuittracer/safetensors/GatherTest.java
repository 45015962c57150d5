package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatherTest {

    private static final int ROWS = 37;
    private static final int LAYERS = 3;
    private static final int WIDTH = 5;

    @TempDir
    Path dir;
    private Path file;
    private float[] values;

    @BeforeEach
    void writeFile() {
        SplittableRandom random = new SplittableRandom(7);
        values = new float[ROWS * LAYERS * WIDTH];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        file = dir.resolve("g.safetensors");
        long[] shape = {ROWS, LAYERS, WIDTH};
        new SafetensorsWriter()
                .addFloats("f32", shape, values)
                .addFloats("f16", DType.F16, shape, values)
                .addFloats("bf16", DType.BF16, shape, values)
                .addFloats("f64", DType.F64, shape, values)
                .addFloats("bias", new long[] {ROWS}, Arrays.copyOf(values, ROWS))
                .addFloats("norows", new long[] {0, 4}, new float[0])
                .addLongs("ids", DType.I64, new long[] {2, 2}, new long[] {1, 2, 3, 4})
                .write(file);
    }

    /** Rows r of the full read, each restricted to columns [c0, c0 + n). */
    private static float[] expected(float[] full, int rowLength, int[] rows, int c0, int n) {
        float[] out = new float[rows.length * n];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(full, rows[i] * rowLength + c0, out, i * n, n);
        }
        return out;
    }

    private static float[] toArray(ByteBuffer b) {
        float[] out = new float[b.remaining() / 4];
        b.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void gatheredRowsEqualTheRowsOfAFullRead() {
        int[] rows = {0, ROWS - 1, 5, 5, 12};
        for (long halfWindow : new long[] {MappedRegions.DEFAULT_HALF_WINDOW, 64, 7}) {
            try (SafetensorsFile f = SafetensorsFile.open(file, halfWindow)) {
                for (String name : List.of("f32", "f16", "bf16", "f64")) {
                    float[] full = f.readFloats(name);
                    int rowLength = LAYERS * WIDTH;
                    assertThat(f.gatherRows(name, rows)).containsExactly(expected(full, rowLength, rows, 0, rowLength));
                    assertThat(toArray(f.gatherRowsDirect(name, rows)))
                            .containsExactly(expected(full, rowLength, rows, 0, rowLength));
                    for (int layer = 0; layer < LAYERS; layer++) { // the cross-layer decoder case
                        float[] want = expected(full, rowLength, rows, layer * WIDTH, WIDTH);
                        assertThat(f.gatherRowSlices(name, rows, (long) layer * WIDTH, WIDTH)).containsExactly(want);
                        ByteBuffer direct = f.gatherRowSlicesDirect(name, rows, (long) layer * WIDTH, WIDTH);
                        assertThat(direct.isDirect()).isTrue();
                        assertThat(toArray(direct)).containsExactly(want);
                        FloatBuffer into = FloatBuffer.allocate(want.length + 3);
                        into.put(-1f);
                        f.gatherRowSlices(name, rows, (long) layer * WIDTH, WIDTH, into);
                        assertThat(into.position()).isEqualTo(want.length + 1);
                        assertThat(Arrays.copyOfRange(into.array(), 1, want.length + 1)).containsExactly(want);
                    }
                    assertThat(f.gatherRows(name, new int[0])).isEmpty();
                }
                assertThat(f.readFloats("f32")).containsExactly(values);
                assertThat(f.gatherRows("bias", new int[] {3, 1})).containsExactly(values[3], values[1]);
                assertThat(f.gatherRowSlices("f32", rows, 4, 0)).isEmpty();
            }
        }
    }

    @Test
    void smallWindowsServeTheSameBytes() {
        try (SafetensorsFile big = SafetensorsFile.open(file);
             SafetensorsFile small = SafetensorsFile.open(file, 16)) {
            for (String n : big.names()) {
                assertThat(TestSupport.bytesOf(small.bytes(n))).isEqualTo(TestSupport.bytesOf(big.bytes(n)));
                long size = big.info(n).byteSize();
                for (long off = 0; off < size; off += 13) {
                    long len = Math.min(size - off, 29);
                    assertThat(TestSupport.bytesOf(small.bytes(n, off, len)))
                            .isEqualTo(TestSupport.bytesOf(big.bytes(n, off, len)));
                }
            }
        }
    }

    @Test
    void outOfRangeRequestsAreRejectedCleanly() {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRows("f32", new int[] {0, ROWS}));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE);
            assertThat(e.tensorName()).isEqualTo("f32");
            assertThat(e.file()).isEqualTo(file);
            assertThat(e.getMessage()).contains("\"f32\"", "row 37", "rowIds[1]", "valid rows are 0..36", "[37, 3, 5]");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRows("f16", new int[] {-1})).getMessage()).contains("row -1");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRows("norows", new int[] {0})).getMessage()).contains("no rows");
            e = catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRowSlices("f32", new int[] {0}, 10, 6));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE);
            assertThat(e.getMessage()).contains("columns [10, 16)", "0..14");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRowSlices("f32", new int[] {0}, -1, 2)).kind())
                    .isEqualTo(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE);
            assertThat(catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.gatherRows("ids", new int[] {0})).kind())
                    .isEqualTo(SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION);
            assertThat(catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.bytes("f32", 2200, 100)).kind()).isEqualTo(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE);
            e = catchThrowableOfType(SafetensorsFormatException.class, () -> f.gatherRows("W_dec", new int[] {0}));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.MISSING_TENSOR);
            assertThat(e.getMessage()).contains("\"W_dec\"", "it has 7 tensors");
            assertThatThrownBy(() -> f.gatherRowSlices("f32", new int[] {0, 1}, 0, 5, FloatBuffer.allocate(9)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** A valid, empty tensor with enormous rows: row ids are checked before the output is allocated. */
    @Test
    void rowIdsAreCheckedBeforeAllocatingTheOutput() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0,2000000000],\"data_offsets\":[0,0]}}";
        Path p = TestSupport.write(dir, "wide.safetensors", TestSupport.raw(header, new byte[0]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (Runnable r : List.<Runnable>of(() -> f.gatherRows("w", new int[] {0}),
                    () -> f.gatherRowsDirect("w", new int[] {0}))) {
                SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class, r::run);
                assertThat(e.kind()).isIn(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE,
                        SafetensorsFormatException.Kind.TOO_LARGE);
            }
            assertThat(f.gatherRows("w", new int[0])).isEmpty();
            assertThat(f.readFloats("w")).isEmpty();
        }
    }

    @Test
    void closedFilesRefuseReadsButEarlierBuffersStayValid() {
        SafetensorsFile f = SafetensorsFile.open(file);
        ByteBuffer b = f.bytes("f32");
        f.close();
        f.close(); // idempotent
        assertThat(b.getFloat(4)).isEqualTo(values[1]);
        assertThatThrownBy(() -> f.bytes("f32")).isInstanceOf(IllegalStateException.class);
    }

    /** Tensors beyond 2 GiB: a fake source with computed contents exercises the chunked paths. */
    @Test
    void hugeTensorsAreReadInPartsAndRefusedWholeWithAClearError() {
        long rows = 1L << 20;
        long rowLength = 1L << 14; // 2^34 BF16 elements = 32 GiB
        TensorInfo huge = new TensorInfo("huge", DType.BF16, new long[] {rows, rowLength}, 0, rows * rowLength * 2);
        TensorSource fake = new FakeSource(huge);
        int[] ids = {(int) rows - 1, 3};
        float[] got = fake.gatherRowSlices("huge", ids, rowLength - 4, 4);
        for (int i = 0; i < ids.length; i++) {
            for (int c = 0; c < 4; c++) {
                long element = ids[i] * rowLength + rowLength - 4 + c;
                assertThat(got[i * 4 + c]).isEqualTo(FakeSource.valueAt(element));
            }
        }
        for (Runnable r : List.<Runnable>of(() -> fake.readFloats("huge"), () -> fake.readAsFloat32Direct("huge"),
                () -> fake.readLongs("huge"))) {
            SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class, r::run);
            assertThat(e.kind()).isIn(SafetensorsFormatException.Kind.TOO_LARGE,
                    SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION);
        }
        assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> fake.readFloats("huge")).getMessage())
                .contains("gatherRows");
        // a 72 MB slice of one row is converted through more than one 64 MiB chunk
        long wideRow = 50_000_000L;
        TensorInfo wide = new TensorInfo("wide", DType.F64, new long[] {2, wideRow}, 0, 2 * wideRow * 8);
        TensorSource fake2 = new FakeSource(wide);
        int n = 9_000_000;
        float[] slice = fake2.gatherRowSlices("wide", new int[] {1}, wideRow - n, n);
        for (int i = 0; i < n; i += 1_000_003) {
            assertThat(slice[i]).isEqualTo(FakeSource.valueAt(2 * wideRow - n + i));
        }
        assertThat(slice[n - 1]).isEqualTo(FakeSource.valueAt(2 * wideRow - 1));
    }

    /** A real file over 2 GiB (sparse, so it costs no disk): windows and offsets past 2^31 work. */
    @Test
    void readsAFileLargerThanOneBuffer() throws Exception {
        long rows = 3L << 17; // 393,216 rows of 2,048 F32 = 3 GiB
        int rowLength = 2048;
        long bytes = rows * rowLength * 4;
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + rowLength + "],\"data_offsets\":[0,"
                + bytes + "]}}";
        header += " ".repeat((8 - header.length() % 8) % 8);
        Path big = dir.resolve("big.safetensors");
        long dataStart = 8 + header.length();
        int lastRow = (int) rows - 1;
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.setLength(dataStart + bytes);
            raf.write(TestSupport.raw(header, new byte[0]));
            raf.seek(dataStart + (long) lastRow * rowLength * 4 + 8);
            raf.write(TestSupport.floatsLE(1.5f, -2.5f));
            raf.seek(dataStart + (long) 300_000 * rowLength * 4);
            raf.write(TestSupport.floatsLE(7f));
        }
        try (SafetensorsFile f = SafetensorsFile.open(big)) {
            assertThat(f.info("w").byteSize()).isEqualTo(bytes);
            float[] got = f.gatherRowSlices("w", new int[] {lastRow, 300_000, 0}, 1, 3);
            assertThat(got).containsExactly(0f, 1.5f, -2.5f, 0f, 0f, 0f, 0f, 0f, 0f);
            assertThat(f.gatherRows("w", new int[] {300_000})[0]).isEqualTo(7f);
            ByteBuffer tail = f.bytes("w", bytes - 16, 16);
            assertThat(tail.getFloat(0)).isZero();
            SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class, () -> f.bytes("w"));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.TOO_LARGE);
            assertThat(e.getMessage()).contains("2 GiB", "gatherRows");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> f.readAsFloat32Direct("w")).kind())
                    .isEqualTo(SafetensorsFormatException.Kind.TOO_LARGE);
        }
    }

    /** A TensorSource whose element i (BF16 or F64) has a value computed from i. */
    private static final class FakeSource implements TensorSource {
        private final TensorInfo t;

        FakeSource(TensorInfo t) {
            this.t = t;
        }

        static float valueAt(long element) {
            return HalfFloats.bf16ToFloat(bits(element));
        }

        private static short bits(long element) {
            return (short) (0x3F80 + (element % 97)); // 1.0 plus a few ulps: exact in BF16 and F64
        }

        @Override
        public List<String> names() {
            return List.of(t.name());
        }

        @Override
        public boolean contains(String name) {
            return name.equals(t.name());
        }

        @Override
        public TensorInfo info(String name) {
            return t;
        }

        @Override
        public Path fileOf(String name) {
            return Path.of("fake.safetensors");
        }

        @Override
        public Map<String, String> metadata() {
            return Map.of();
        }

        @Override
        public ByteBuffer bytes(String name) {
            return bytes(name, 0, t.byteSize());
        }

        @Override
        public ByteBuffer bytes(String name, long byteOffset, long byteLength) {
            assertThat(byteLength).isLessThanOrEqualTo(1L << 26); // chunked, never the whole tensor
            int es = t.dtype().byteSize();
            assertThat(byteOffset % es).isZero();
            ByteBuffer b = ByteBuffer.allocate((int) byteLength).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < byteLength / es; i++) {
                if (es == 2) {
                    b.putShort(2 * i, bits(byteOffset / 2 + i));
                } else {
                    b.putDouble(8 * i, valueAt(byteOffset / 8 + i));
                }
            }
            return b;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void utf8NamesWork() {
        Path p = dir.resolve("u.safetensors");
        new SafetensorsWriter().addFloats("h\u00e9\u4e16\ud83d\ude00", new long[] {1}, new float[] {3}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.readFloats("h\u00e9\u4e16\ud83d\ude00")).containsExactly(3f);
            assertThat(new String(TestSupport.read(p), StandardCharsets.UTF_8)).contains("h\u00e9\u4e16\ud83d\ude00");
        }
    }
}
