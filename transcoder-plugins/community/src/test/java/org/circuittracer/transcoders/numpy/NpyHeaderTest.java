package org.circuittracer.transcoders.numpy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transcoders.community.NpzWriter;
import org.junit.jupiter.api.Test;

/** {@code .npy} headers as NumPy writes them, the ones this reader refuses, and a light fuzz of the parser. */
class NpyHeaderTest {

    @Test
    void readsTheHeaderNumpyWritesAndStopsAtTheData() {
        byte[] header = NpzWriter.header("<f4", false, new long[] {2304, 16384});
        assertThat(header.length % 64).as("NumPy pads the header to a multiple of 64 bytes").isZero();
        assertThat(header[header.length - 1]).isEqualTo((byte) '\n');
        ByteArrayInputStream in = new ByteArrayInputStream(concat(header, new byte[] {42}));
        NpyHeader parsed = NpyHeader.read(in, "params.npz: W_enc.npy");
        assertThat(parsed.dtype()).isEqualTo(NpyHeader.ElementType.F32);
        assertThat(parsed.fortranOrder()).isFalse();
        assertThat(parsed.shape()).containsExactly(2304, 16384);
        assertThat(parsed.headerBytes()).isEqualTo(header.length);
        assertThat(in.read()).as("the stream is left at the first data byte").isEqualTo(42);
    }

    @Test
    void readsVectorsScalarsFortranOrderAndOtherSpellings() {
        assertThat(parse("{'descr': '<f2', 'fortran_order': True, 'shape': (3,), }").shape()).containsExactly(3);
        assertThat(parse("{'descr': '<f8', 'fortran_order': False, 'shape': (), }").numel()).isEqualTo(1);
        NpyHeader spelled = parse("{\"shape\": (4L, 5L), \"fortran_order\": True, \"descr\": \"<f4\"}");
        assertThat(spelled.shape()).containsExactly(4, 5);
        assertThat(spelled.fortranOrder()).isTrue();
    }

    @Test
    void readsFormatVersions2And3() {
        for (int version : new int[] {2, 3}) {
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }\n";
            ByteBuffer header = ByteBuffer.allocate(12 + dict.length()).order(ByteOrder.LITTLE_ENDIAN);
            header.put(NpyHeader.MAGIC).put((byte) version).put((byte) 0).putInt(dict.length())
                    .put(dict.getBytes(StandardCharsets.UTF_8));
            NpyHeader parsed = NpyHeader.read(new ByteArrayInputStream(header.array()), "a.npy");
            assertThat(parsed.shape()).containsExactly(7);
            assertThat(parsed.headerBytes()).isEqualTo(12 + dict.length());
        }
    }

    @Test
    void refusesWhatItDoesNotReadSayingWhatItFound() {
        expectMalformed("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", "big-endian");
        expectMalformed("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", "dtype '<i8'");
        expectMalformed("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", "malformed header");
        expectMalformed("{'descr': '<f4', 'shape': (3,), }", "exactly 'descr', 'fortran_order' and 'shape'");
        expectMalformed("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", "malformed header");
        expectMalformed("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2), }", "malformed header");
        expectMalformed("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                "too large");
        expectMalformed("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'descr': '<f4'}", "repeats");
        assertThatThrownBy(() -> NpyHeader.read(new ByteArrayInputStream("PK\u0003\u0004xxxxxxxx".getBytes(
                StandardCharsets.ISO_8859_1)), "a.npy")).hasMessageContaining("magic");
        byte[] header = NpzWriter.header("<f4", false, new long[] {3});
        assertThatThrownBy(() -> NpyHeader.read(new ByteArrayInputStream(Arrays.copyOf(header, 30)), "a.npy"))
                .hasMessageContaining("truncated");
        byte[] version4 = header.clone();
        version4[6] = 4;
        assertThatThrownBy(() -> NpyHeader.read(new ByteArrayInputStream(version4), "a.npy"))
                .hasMessageContaining("version 4.0");
    }

    /** A few hundred random mutations of valid headers: every failure is a clean MALFORMED_FILE error. */
    @Test
    void mutatedHeadersFailCleanly() {
        Random random = new Random(20);
        byte[][] seeds = {NpzWriter.header("<f4", false, new long[] {16, 32}),
                NpzWriter.header("<f2", true, new long[] {32}), NpzWriter.header("<f8", false, new long[] {})};
        int failures = 0;
        for (int round = 0; round < 600; round++) {
            byte[] bytes = seeds[round % seeds.length].clone();
            int edits = 1 + random.nextInt(4);
            for (int e = 0; e < edits; e++) {
                if (bytes.length <= 10) {
                    break;
                }
                switch (random.nextInt(4)) {
                    case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    case 1 -> bytes[10 + random.nextInt(bytes.length - 10)] = (byte) "{}(),:' TrueFals<f48L"
                            .charAt(random.nextInt(20));
                    case 2 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                    default -> bytes[8 + random.nextInt(2)] = (byte) random.nextInt(256); // the length
                }
            }
            byte[] input = bytes;
            try {
                NpyHeader.read(new ByteArrayInputStream(input), "fuzz.npy");
            } catch (CircuitTracerException e) {
                assertThat(e.errorCode()).as("round %d: %s", round, e.getMessage())
                        .isEqualTo(StandardErrorCode.MALFORMED_FILE);
                assertThat(e.getMessage()).startsWith("fuzz.npy ");
                failures++;
            }
        }
        assertThat(failures).as("most mutations break the header").isGreaterThan(300);
    }

    private static NpyHeader parse(String dict) {
        return NpyHeader.parse(dict, "a.npy", 10 + dict.length());
    }

    private static void expectMalformed(String dict, String fragment) {
        assertThatThrownBy(() -> parse(dict)).isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageStartingWith("a.npy ").hasMessageContaining(fragment);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
