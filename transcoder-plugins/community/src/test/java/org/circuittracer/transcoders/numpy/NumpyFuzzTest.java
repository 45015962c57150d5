package org.circuittracer.transcoders.numpy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.community.NpzWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code .npy} headers and {@code .npz} archives, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class NumpyFuzzTest {

    private static final float[] SIX = {1, 2, 3, 4, 5, 6};

    @Test
    void mutatedNpyFilesLoadOrFailWithCircuitTracerException() {
        List<byte[]> seeds = List.of(
                NpzWriter.npy(NpzWriter.Array.f32(new long[] {2, 3}, SIX)),
                NpzWriter.npy(new NpzWriter.Array("<f2", true, new long[] {6}, SIX)),
                NpzWriter.npy(new NpzWriter.Array("<f8", false, new long[] {3, 1, 2}, SIX)),
                NpzWriter.npy(NpzWriter.Array.f32(new long[] {}, new float[] {7})));
        Fuzzer.Result r = Fuzzer.named("npy header").seeds(seeds)
                .strings(List.of("descr", "fortran_order", "shape", "<f4", ">f4", "|u1", "<i8", "True", "False"))
                .run((input, dir) -> {
                    NpyHeader h = NpyHeader.read(new ByteArrayInputStream(input), "fuzz.npy");
                    assertThat(h.dataBytes()).isGreaterThanOrEqualTo(0);
                    assertThat(h.numel()).isGreaterThanOrEqualTo(0);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /** Found by the fuzzer: a 19-digit dimension above Long.MAX_VALUE threw NumberFormatException. */
    @Test
    void aDimensionAboveLongMaxIsMalformed() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 9223372036854775808), }";
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NpyHeader.parse(dict, "a.npy", dict.length()))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class)
                .hasMessageContaining("too large to exist");
    }

    @Test
    void mutatedNpzArchivesOpenOrFailWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        for (boolean compressed : new boolean[] {false, true}) {
            Map<String, NpzWriter.Array> arrays = new LinkedHashMap<>();
            arrays.put("W_enc", NpzWriter.Array.f32(new long[] {2, 3}, SIX));
            arrays.put("b_dec", new NpzWriter.Array("<f2", false, new long[] {3}, new float[] {7, 8, 9}));
            Path file = tmp.resolve("seed" + compressed + ".npz");
            NpzWriter.npz(file, arrays, compressed);
            seeds.add(Files.readAllBytes(file));
        }
        Fuzzer.Result r = Fuzzer.named("npz archive").seeds(seeds).share(0.4).watchFiles().run((input, dir) -> {
            Path file = dir.resolve("params.npz");
            Files.write(file, input);
            try (NpzArchive npz = NpzArchive.open(file)) {
                for (String name : npz.names()) {
                    npz.info(name);
                    npz.bytes(name);
                }
            }
        });
        r.assertSomeLoaded();
        r.assertSomeRejected();
        // the file always exists here: a corrupt archive is MALFORMED_FILE, never "not found" (found by this fuzzer:
        // new ZipFile throws EOFException for a directory that runs past the end of the file)
        org.assertj.core.api.Assertions.assertThat(r.errorCodes()).doesNotContainKey("FILE_NOT_FOUND");
    }

    /** Found by the fuzzer (-Pfuzz): an entry name that is not UTF-8 though flagged so threw IllegalArgumentException. */
    @Test
    void anEntryNameThatIsNotUtf8IsMalformed(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("bad.npz");
        NpzWriter.npz(file, Map.of("W", NpzWriter.Array.f32(new long[] {2, 3}, SIX)), false);
        byte[] zip = Files.readAllBytes(file);
        for (int i = 0; i + 4 < zip.length; i++) { // set the UTF-8 flag and break the name in every header
            if (zip[i] == 'P' && zip[i + 1] == 'K' && (zip[i + 2] == 3 && zip[i + 3] == 4 || zip[i + 2] == 1
                    && zip[i + 3] == 2)) {
                int flags = zip[i + 2] == 3 ? i + 6 : i + 8;
                int name = zip[i + 2] == 3 ? i + 30 : i + 46;
                zip[flags + 1] |= 0x08;
                zip[name] = (byte) 0xFF;
            }
        }
        Files.write(file, zip);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NpzArchive.open(file).close())
                .isInstanceOfSatisfying(org.circuittracer.spi.CircuitTracerException.class, e -> assertThat(
                        e.errorCode()).isEqualTo(org.circuittracer.spi.StandardErrorCode.MALFORMED_FILE));
    }
}
