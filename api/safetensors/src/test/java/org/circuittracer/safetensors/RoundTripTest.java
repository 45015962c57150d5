package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {

    @TempDir
    Path dir;

    @Test
    void everyDtypeAndTheMetadataSurviveARoundTrip() throws Exception {
        SplittableRandom random = new SplittableRandom(1);
        Map<String, byte[]> raw = new LinkedHashMap<>();
        SafetensorsWriter w = new SafetensorsWriter()
                .metadata("format", "pt")
                .metadata(Map.of("note", "h\u00e9llo \"quoted\"\n\u4e16\u754c", "", "empty key"));
        for (DType t : DType.values()) {
            byte[] data = new byte[2 * 3 * t.byteSize()];
            random.nextBytes(data);
            if (t == DType.BOOL) {
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (data[i] & 1);
                }
            }
            String name = "t." + t.name().toLowerCase();
            raw.put(name, data);
            w.add(name, t, new long[] {2, 3}, data);
        }
        w.add("scalar", DType.F32, new long[0], TestSupport.floatsLE(42f));
        w.add("empty", DType.F16, new long[] {0, 7}, new byte[0]);
        Path file = dir.resolve("all.safetensors");
        w.write(file);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).containsExactly(Map.entry("", "empty key"), Map.entry("format", "pt"),
                    Map.entry("note", "h\u00e9llo \"quoted\"\n\u4e16\u754c"));
            assertThat(f.names()).hasSize(DType.values().length + 2);
            for (DType t : DType.values()) {
                String name = "t." + t.name().toLowerCase();
                TensorInfo info = f.info(name);
                assertThat(info.dtype()).isEqualTo(t);
                assertThat(info.shape()).containsExactly(2, 3);
                assertThat(info.numel()).isEqualTo(6);
                assertThat(info.byteSize()).isEqualTo(6L * t.byteSize());
                ByteBuffer b = f.bytes(name);
                assertThat(b.isReadOnly()).isTrue();
                assertThat(b.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
                assertThat(TestSupport.bytesOf(b)).isEqualTo(raw.get(name));
                // data is 8-byte aligned in the file, as the Python library guarantees
                assertThat((f.dataOffset() + info.dataBegin()) % t.byteSize()).isZero();
            }
            assertThat(f.readFloats("scalar")).containsExactly(42f);
            assertThat(f.info("scalar").rank()).isZero();
            assertThat(f.readFloats("empty")).isEmpty();
            assertThat(f.bytes("empty").remaining()).isZero();
        }
    }

    @Test
    void floatConversionsAreExactForRepresentableValuesAndRoundedOtherwise() {
        float[] exact = {0f, -0f, 1f, -2.5f, 0.099975586f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY};
        float[] rounded = {0.1f, 1.0f / 3, 70000f, 1e-9f};
        Path file = dir.resolve("f.safetensors");
        new SafetensorsWriter()
                .addFloats("f32", new long[] {8}, exact)
                .addFloats("f64", DType.F64, new long[] {8}, exact)
                .addFloats("f16", DType.F16, new long[] {8}, exact)
                .addFloats("bf16", DType.BF16, new long[] {4}, new float[] {1f, -0.5f, 3.0e38f, 1.5f})
                .addFloats("f16r", DType.F16, new long[] {4}, rounded)
                .addFloats("bf16r", DType.BF16, new long[] {4}, rounded)
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readFloats("f32")).containsExactly(exact);
            assertThat(f.readFloats("f64")).containsExactly(exact);
            assertThat(f.readFloats("f16")).containsExactly(exact);
            assertThat(f.readFloats("bf16")).containsExactly(1f, -0.5f, HalfFloats.bf16ToFloat(
                    HalfFloats.floatToBf16(3.0e38f)), 1.5f);
            assertThat(f.readFloats("f16r")).containsExactly(0.099975586f, 0.33325195f, Float.POSITIVE_INFINITY, 0f);
            assertThat(f.readFloats("bf16r")).containsExactly(0.10009765625f, 0.33398438f, 70144f, 9.968062e-10f);
            for (String n : f.names()) {
                ByteBuffer direct = f.readAsFloat32Direct(n);
                assertThat(direct.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
                float[] viaDirect = new float[direct.remaining() / 4];
                direct.asFloatBuffer().get(viaDirect);
                assertThat(viaDirect).containsExactly(f.readFloats(n));
            }
            // F32 is served zero-copy from the mapping
            ByteBuffer f32 = f.readAsFloat32Direct("f32");
            assertThat(f32.isDirect()).isTrue();
            assertThat(f32.isReadOnly()).isTrue();
            assertThat(f.readAsFloat32Direct("f16").isDirect()).isTrue();
        }
    }

    @Test
    void integersWidenLosslesslyAndNarrowOnlyWhenTheyFit() {
        Path file = dir.resolve("i.safetensors");
        new SafetensorsWriter()
                .addLongs("i64", DType.I64, new long[] {3}, new long[] {Long.MIN_VALUE, -1, Long.MAX_VALUE})
                .addLongs("i64small", DType.I64, new long[] {3}, new long[] {0, -7, 50_000})
                .addInts("i32", DType.I32, new long[] {2}, new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE})
                .addLongs("u32", DType.U32, new long[] {2}, new long[] {0, 0xFFFF_FFFFL})
                .addLongs("i16", DType.I16, new long[] {2}, new long[] {-32768, 32767})
                .addLongs("u16", DType.U16, new long[] {1}, new long[] {65535})
                .addLongs("i8", DType.I8, new long[] {2}, new long[] {-128, 127})
                .addLongs("u8", DType.U8, new long[] {1}, new long[] {255})
                .addLongs("bool", DType.BOOL, new long[] {2}, new long[] {0, 1})
                .add("u64", DType.U64, new long[] {2}, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(5).putLong(-1).flip())
                .addFloats("f32", new long[] {1}, new float[] {1})
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readLongs("i64")).containsExactly(Long.MIN_VALUE, -1, Long.MAX_VALUE);
            assertThat(f.readInts("i64small")).containsExactly(0, -7, 50_000);
            assertThat(f.readLongs("i32")).containsExactly(Integer.MIN_VALUE, Integer.MAX_VALUE);
            assertThat(f.readLongs("u32")).containsExactly(0, 0xFFFF_FFFFL);
            assertThat(f.readInts("i16")).containsExactly(-32768, 32767);
            assertThat(f.readInts("u16")).containsExactly(65535);
            assertThat(f.readInts("i8")).containsExactly(-128, 127);
            assertThat(f.readInts("u8")).containsExactly(255);
            assertThat(f.readInts("bool")).containsExactly(0, 1);

            SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class,
                    () -> f.readInts("i64"));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION);
            assertThat(e.getMessage()).contains("\"i64\"", "element 0", "readLongs");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> f.readInts("u32")).getMessage())
                    .contains("element 1 is 4294967295");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> f.readLongs("u64")).getMessage())
                    .contains("element 1 is 18446744073709551615");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> f.readLongs("f32")).getMessage())
                    .contains("readFloats");
            assertThat(catchThrowableOfType(SafetensorsFormatException.class, () -> f.readFloats("i64")).kind())
                    .isEqualTo(SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION);
        }
        assertThatThrownBy(() -> new SafetensorsWriter().addLongs("x", DType.U8, new long[] {1}, new long[] {256}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not fit in U8");
    }

    /** Byte-exact files from the Rust library's own serialization tests. */
    @Test
    void headerLayoutMatchesThePythonLibrary() {
        byte[] data = TestSupport.floatsLE(0, 1, 2, 3, 4, 5);
        byte[] out = new SafetensorsWriter().add("attn.0", DType.F32, new long[] {1, 2, 3}, data).toByteArray();
        String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        assertThat(out).isEqualTo(TestSupport.raw(header, data)); // exactly 64 bytes: no padding needed

        out = new SafetensorsWriter().add("attn0", DType.F32, new long[] {1, 1, 2, 3}, data).toByteArray();
        header = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
        assertThat(out).isEqualTo(TestSupport.raw(header, data));

        assertThat(new SafetensorsWriter().toByteArray()).isEqualTo(TestSupport.raw("{}      ", new byte[0]));
        assertThat(new SafetensorsWriter().metadata("framework", "pt").toByteArray())
                .isEqualTo(TestSupport.raw("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]));
    }

    @Test
    void tensorOrders() {
        SafetensorsWriter w = new SafetensorsWriter()
                .addFloats("b", new long[] {1}, new float[] {1})
                .addLongs("c", DType.I64, new long[] {1}, new long[] {1})
                .addFloats("a", DType.F16, new long[] {1}, new float[] {1})
                .addFloats("\u00e9", new long[] {1}, new float[] {1})
                .addFloats("\ud83d\ude00", new long[] {1}, new float[] {1})
                .addFloats("\uffff", new long[] {1}, new float[] {1});
        assertThat(namesInFile(w.order(SafetensorsWriter.Order.PYTHON).toByteArray()))
                .containsExactly("c", "b", "\u00e9", "\uffff", "\ud83d\ude00", "a");
        assertThat(namesInFile(w.order(SafetensorsWriter.Order.NAME).toByteArray()))
                .containsExactly("a", "b", "c", "\u00e9", "\uffff", "\ud83d\ude00");
        assertThat(namesInFile(w.order(SafetensorsWriter.Order.INSERTION).toByteArray()))
                .containsExactly("b", "c", "a", "\u00e9", "\ud83d\ude00", "\uffff");
    }

    private List<String> namesInFile(byte[] content) {
        Path p = TestSupport.write(dir, "order.safetensors", content);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.headerLength() % 8).isZero();
            // header order is data order for our files
            long expected = 0;
            for (TensorInfo t : f.tensors()) {
                assertThat(t.dataBegin()).isEqualTo(expected);
                expected = t.dataEnd();
            }
            return f.names();
        }
    }

    @Test
    void writesAtomicallyAndReplacesTheTarget() throws Exception {
        Path file = dir.resolve("m.safetensors");
        Files.writeString(file, "old contents");
        new SafetensorsWriter().addFloats("x", new long[] {2}, new float[] {1, 2}).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readFloats("x")).containsExactly(1, 2);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(file); // no temporary file left behind
        }

        Path nowhere = dir.resolve("missing/m.safetensors");
        SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class,
                () -> new SafetensorsWriter().write(nowhere));
        assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.NOT_FOUND);
        assertThat(e.getMessage()).contains("does not exist");
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("x", new long[] {1}, new float[] {1});
        assertThatThrownBy(() -> w.addFloats("x", new long[] {1}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already added");
        assertThatThrownBy(() -> w.addFloats("__metadata__", new long[] {1}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> w.addFloats("y", new long[] {2, 2}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 elements");
        assertThatThrownBy(() -> w.add("y", DType.F32, new long[] {-1}, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        assertThatThrownBy(() -> w.add("y", DType.F32, new long[] {1L << 62, 4}, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too large");
        assertThatThrownBy(() -> w.add("y", DType.F32, new long[] {2}, new byte[7]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("need 8 bytes");
        assertThatThrownBy(() -> w.addFloats("y", DType.I32, new long[] {1}, new float[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.metadata("k", "lone \ud800"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("surrogate");
    }

    @Test
    void copiesTensorsBetweenFiles() {
        Path a = dir.resolve("a.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {2}, new float[] {1, 2})
                .addLongs("ids", DType.I64, new long[] {1}, new long[] {9}).write(a);
        Path b = dir.resolve("b.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(a)) {
            SafetensorsWriter w = new SafetensorsWriter();
            f.names().forEach(n -> w.copy(f, n));
            w.write(b);
        }
        assertThat(TestSupport.read(b)).isEqualTo(TestSupport.read(a));
        assertThat(new String(TestSupport.read(b), 8, 10, StandardCharsets.UTF_8)).startsWith("{\"ids\"");
    }

    @Test
    void intAndFloatArraysSpanningSeveralWriteChunksRoundTripExactly() throws Exception {
        // more than two of the writer's 2^20-element chunks, with a partial last chunk
        int n = (1 << 21) + 12_345;
        SplittableRandom random = new SplittableRandom(7);
        int[] ints = new int[n];
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) {
            ints[i] = random.nextInt();
            floats[i] = Float.intBitsToFloat(random.nextInt());
        }
        SafetensorsWriter w = new SafetensorsWriter()
                .addInts("ints", DType.I32, new long[] {n}, ints)
                .addFloats("floats", new long[] {n}, floats)
                .addInts("none", DType.I32, new long[] {0}, new int[0]);
        Path file = dir.resolve("chunks.safetensors");
        w.write(file);
        byte[] inMemory = w.toByteArray();
        assertThat(Files.readAllBytes(file)).isEqualTo(inMemory);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readInts("ints")).isEqualTo(ints);
            int[] bits = new int[n];
            float[] back = f.readFloats("floats");
            for (int i = 0; i < n; i++) {
                bits[i] = Float.floatToRawIntBits(back[i]);
            }
            int[] expected = new int[n];
            for (int i = 0; i < n; i++) {
                expected[i] = Float.floatToRawIntBits(floats[i]);
            }
            assertThat(bits).isEqualTo(expected); // NaN payloads included: F32 is written bit for bit
            assertThat(f.readInts("none")).isEmpty();
        }
    }

    @Test
    void arraysGivenWithTheWrongElementCountAreRefusedWhenAdded() {
        assertThatThrownBy(() -> new SafetensorsWriter().addInts("x", DType.I32, new long[] {2, 3}, new int[5]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("6 elements, but 5 values");
        assertThatThrownBy(() -> new SafetensorsWriter().addFloats("x", new long[] {4}, new float[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 elements, but 3 values");
    }

    @Test
    void aTensorCanComeFromARegionOfAnotherFile() throws Exception {
        Path source = dir.resolve("source.bin");
        ByteBuffer b = ByteBuffer.allocate(3 + 4 * 5).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {9, 9, 9});
        for (int i = 0; i < 5; i++) {
            b.putFloat(i * 1.5f);
        }
        Files.write(source, b.array());
        Path file = dir.resolve("region.safetensors");
        new SafetensorsWriter().add("x", DType.F32, new long[] {5}, source, 3).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.readFloats("x")).containsExactly(0f, 1.5f, 3f, 4.5f, 6f);
        }
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", DType.F32, new long[] {6}, source, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too few");
    }
}
