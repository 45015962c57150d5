package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BF16 matrices are widened in bulk when rows are gathered or read in blocks: the values are exactly the reader's
 * per-element conversion, for whole rows and for column blocks (a cross-layer decoder's output layer), and a bad row
 * id still fails with the reader's message.
 */
class Bf16RowsTest {

    @TempDir
    Path dir;

    @Test
    void bulkWideningGivesTheReadersValues() {
        int rows = 37;
        int rowLength = 24;
        float[] values = new float[rows * rowLength];
        Random random = new Random(5);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * (i % 7 == 0 ? 1e-30f : 3f); // subnormal-ish values too
        }
        values[3] = -0f;
        Path file = dir.resolve("w.safetensors");
        new SafetensorsWriter().addFloats("w", DType.BF16, new long[] {rows, 2, rowLength / 2}, values).write(file);
        try (SafetensorsFile source = SafetensorsFile.open(file); NDManager manager = NDManager.newBaseManager()) {
            float[] all = source.readFloats("w");
            int[] ids = {5, 0, 36, 5, 17};
            RowMatrix whole = RowMatrix.of(source, "w");
            assertThat(whole.gather(manager, ids).toFloatArray()).containsExactly(expectedRows(all, ids, rowLength, 0,
                    rowLength));
            assertThat(whole.rowBlock(manager, 3, 9).toFloatArray()).containsExactly(expectedRows(all,
                    IntStream.range(3, 12).toArray(), rowLength, 0, rowLength));
            RowMatrix second = RowMatrix.columns(source, "w", rowLength / 2, rowLength / 2);
            assertThat(second.gather(manager, ids).toFloatArray()).containsExactly(expectedRows(all, ids, rowLength,
                    rowLength / 2, rowLength / 2));
            assertThat(second.rowBlock(manager, 30, 7).toFloatArray()).containsExactly(expectedRows(all,
                    IntStream.range(30, 37).toArray(), rowLength, rowLength / 2, rowLength / 2));
            assertThatThrownBy(() -> whole.gather(manager, new int[] {1, rows})).hasMessageContaining("row " + rows);
        }
    }

    private static float[] expectedRows(float[] all, int[] ids, int rowLength, int from, int length) {
        float[] out = new float[ids.length * length];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(all, ids[i] * rowLength + from, out, i * length, length);
        }
        return out;
    }
}
