package org.circuittracer.transcoders.numpy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transcoders.community.NpzWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Archives as {@code np.savez} and {@code np.savez_compressed} write them, read as float32 in C order. */
class NpzArchiveTest {

    private static final float[] MATRIX = {1, 2, 3, 4, 5, 6}; // [2, 3], C order

    @TempDir
    Path dir;

    @Test
    void readsStoredAndDeflatedArchivesOfEveryDtypeAndOrderAsFloat32InCOrder() {
        Map<String, NpzWriter.Array> arrays = new LinkedHashMap<>();
        arrays.put("c32", NpzWriter.Array.f32(new long[] {2, 3}, MATRIX));
        arrays.put("fortran32", new NpzWriter.Array("<f4", true, new long[] {2, 3}, MATRIX));
        arrays.put("half", new NpzWriter.Array("<f2", false, new long[] {2, 3}, MATRIX));
        arrays.put("double", new NpzWriter.Array("<f8", true, new long[] {2, 3}, MATRIX));
        arrays.put("vector", NpzWriter.Array.f32(new long[] {3}, new float[] {7, 8, 9}));
        for (boolean compressed : new boolean[] {false, true}) {
            Path file = dir.resolve("a" + compressed + ".npz");
            NpzWriter.npz(file, arrays, compressed);
            try (NpzArchive npz = NpzArchive.open(file)) {
                assertThat(npz.names()).containsExactly("c32", "fortran32", "half", "double", "vector");
                for (String name : new String[] {"c32", "fortran32", "half", "double"}) {
                    assertThat(npz.info(name).dtype()).isEqualTo(DType.F32);
                    assertThat(npz.info(name).shape()).containsExactly(2, 3);
                    assertThat(npz.readFloats(name)).as(name).containsExactly(MATRIX);
                    assertThat(npz.bytes(name).isDirect()).as("off-heap").isTrue();
                    assertThat(npz.bytes(name).order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
                }
                assertThat(npz.header("fortran32").fortranOrder()).isTrue();
                assertThat(npz.gatherRows("c32", new int[] {1, 0})).containsExactly(4, 5, 6, 1, 2, 3);
                assertThat(npz.readFloats("vector")).containsExactly(7, 8, 9);
            }
        }
    }

    @Test
    void readsTheFilesNumpyWrites() throws Exception {
        float[] expected = new float[12];
        for (int i = 0; i < 12; i++) {
            expected[i] = i / 8f; // exact in float16, float32 and float64
        }
        for (String name : new String[] {"numpy-savez.npz", "numpy-savez-compressed.npz"}) {
            Path file = Path.of(NpzArchiveTest.class.getResource("/numpy/" + name).toURI());
            try (NpzArchive npz = NpzArchive.open(file)) {
                assertThat(npz.names()).containsExactlyInAnyOrder("c32", "fortran32", "half", "double", "vector");
                for (String array : new String[] {"c32", "fortran32", "half", "double"}) {
                    assertThat(npz.info(array).shape()).as("%s %s", name, array).containsExactly(3, 4);
                    assertThat(npz.readFloats(array)).as("%s %s", name, array).containsExactly(expected);
                }
                assertThat(npz.header("fortran32").fortranOrder()).isTrue();
                assertThat(npz.header("half").dtype()).isEqualTo(NpyHeader.ElementType.F16);
                assertThat(npz.readFloats("vector")).containsExactly(0, 1, 2, 3, 4);
            }
        }
    }

    @Test
    void badArchivesAreMalformedFilesNamingTheEntry() throws IOException {
        Path notZip = dir.resolve("not.npz");
        Files.writeString(notZip, "just text");
        expect(notZip, StandardErrorCode.MALFORMED_FILE, "not a zip archive");

        Path wrongSize = dir.resolve("short.npz");
        NpzWriter.npz(wrongSize, Map.of("W", NpzWriter.Array.f32(new long[] {2, 3}, MATRIX)), false);
        byte[] bytes = Files.readAllBytes(wrongSize);
        // declare 4 rows where 2 are stored: the entry's size no longer matches its header
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace("(2, 3)", "(4, 3)");
        Files.write(wrongSize, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        expect(wrongSize, StandardErrorCode.MALFORMED_FILE, "W.npy holds 24 data bytes");

        Path bigEndian = dir.resolve("big.npz");
        NpzWriter.npz(bigEndian, Map.of("W", NpzWriter.Array.f32(new long[] {6}, MATRIX)), false);
        String swapped = new String(Files.readAllBytes(bigEndian), java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("'<f4'", "'>f4'");
        Files.write(bigEndian, swapped.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        expect(bigEndian, StandardErrorCode.MALFORMED_FILE, "big.npz: W.npy has dtype '>f4', which is big-endian");

        Path truncated = dir.resolve("truncated.npz");
        NpzWriter.npz(truncated, Map.of("W", NpzWriter.Array.f32(new long[] {6}, MATRIX)), true);
        byte[] whole = Files.readAllBytes(truncated);
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        expect(truncated, StandardErrorCode.MALFORMED_FILE, "truncated.npz");

        expect(dir.resolve("absent.npz"), StandardErrorCode.FILE_NOT_FOUND, "absent.npz");
    }

    private static void expect(Path file, StandardErrorCode code, String fragment) {
        assertThatThrownBy(() -> {
            try (NpzArchive npz = NpzArchive.open(file)) {
                npz.names().forEach(npz::readFloats);
            }
        }).isInstanceOfSatisfying(CircuitTracerException.class, e -> assertThat(e.errorCode()).as(e.getMessage())
                .isEqualTo(code)).hasMessageContaining(fragment);
    }
}
