package org.circuittracer.spi.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.circuittracer.spi.CircuitTracerException;
import org.junit.jupiter.api.Test;

class EdgeMatrixTest {

    @Test
    void sparseFormAgreesWithTheDenseMatrixEverywhere() {
        Random random = new Random(42);
        int n = 37;
        float[] dense = new float[n * n];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = random.nextFloat() < 0.1 ? (float) random.nextGaussian() : 0f;
        }
        EdgeMatrix matrix = EdgeMatrix.fromDense(n, dense);
        int nonZeros = 0;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                assertThat(matrix.get(r, c)).isEqualTo(dense[r * n + c]);
                nonZeros += dense[r * n + c] != 0 ? 1 : 0;
            }
        }
        assertThat(matrix.nonZeros()).isEqualTo(nonZeros);
        int row = 5;
        for (int i = 0; i < matrix.rowSize(row); i++) {
            assertThat(dense[row * n + matrix.columnAt(row, i)]).isEqualTo(matrix.weightAt(row, i));
        }
    }

    @Test
    void rejectsInconsistentArrays() {
        assertThatThrownBy(() -> new EdgeMatrix(2, new int[] {0, 1, 1}, new int[] {5}, new float[] {1}))
                .hasMessageContaining("columns must be ascending");
        assertThatThrownBy(() -> new EdgeMatrix(2, new int[] {0, 2, 2}, new int[] {1, 0}, new float[] {1, 2}))
                .hasMessageContaining("ascending");
        assertThatThrownBy(() -> new EdgeMatrix(2, new int[] {0, 1}, new int[] {0}, new float[] {1}))
                .hasMessageContaining("inconsistent");
    }

    @Test
    void isImmutable() {
        int[] columns = {1};
        EdgeMatrix matrix = new EdgeMatrix(2, new int[] {0, 1, 1}, columns, new float[] {3f});
        columns[0] = 0;
        matrix.weights()[0] = 9f;
        assertThat(matrix.get(0, 1)).isEqualTo(3f);
        assertThat(matrix).isEqualTo(new EdgeMatrix(2, new int[] {0, 1, 1}, new int[] {1}, new float[] {3f}));
    }

    /** Found by fuzzing graph files: a row start past the columns threw ArrayIndexOutOfBoundsException. */
    @Test
    void aRowStartPastTheColumnsIsRejected() {
        assertThatThrownBy(() -> new EdgeMatrix(2, new int[] {0, 3, 1}, new int[] {0}, new float[] {1f}))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("at most 1");
    }

    /** A random CSR matrix of about {@code perRow} entries per row, written to {@code file} as [columns][weights]. */
    private static EdgeMatrix randomMatrix(int size, int perRow, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        int[] rowStart = new int[size + 1];
        java.util.List<Integer> cols = new java.util.ArrayList<>();
        java.util.List<Float> ws = new java.util.ArrayList<>();
        for (int r = 0; r < size; r++) {
            int count = random.nextInt(2 * perRow + 1);
            java.util.TreeSet<Integer> set = new java.util.TreeSet<>();
            while (set.size() < Math.min(count, size)) {
                set.add(random.nextInt(size));
            }
            for (int c : set) {
                cols.add(c);
                ws.add((float) random.nextGaussian());
            }
            rowStart[r + 1] = cols.size();
        }
        return EdgeMatrix.adopt(size, rowStart, cols.stream().mapToInt(Integer::intValue).toArray(),
                toFloats(ws));
    }

    private static float[] toFloats(java.util.List<Float> list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    private static java.nio.file.Path write(EdgeMatrix m, java.nio.file.Path file, int gap) throws Exception {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(gap + 8 * m.nonZeros())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.position(gap);
        for (int c : m.columns()) {
            b.putInt(c);
        }
        for (float w : m.weights()) {
            b.putFloat(w);
        }
        java.nio.file.Files.write(file, b.array());
        return file;
    }

    @Test
    void aFileBackedMatrixReadsTheSameRowsAsTheInMemoryOneAcrossBlocks(@org.junit.jupiter.api.io.TempDir
                                                                       java.nio.file.Path dir) throws Exception {
        // more entries than one read block, so rows are delivered from several blocks
        EdgeMatrix m = randomMatrix(3000, 500, 3);
        assertThat(m.nonZeros()).isGreaterThan(EdgeMatrix.BLOCK_ENTRIES);
        java.nio.file.Path file = write(m, dir.resolve("edges.bin"), 16);
        EdgeMatrix d = EdgeMatrix.onDisk(m.size(), m.rowStart(), file, 16, 16 + 4L * m.nonZeros(), false, true);
        assertThat(d.inMemory()).isFalse();
        assertThat(m.inMemory()).isTrue();
        assertThat(d).isEqualTo(m);
        assertThat(d.toString()).contains("on disk");
        long[] sums = new long[2];
        int[] rowsSeen = new int[2];
        m.forEachRow((t, cols, ws, from, to) -> {
            rowsSeen[0]++;
            for (int i = from; i < to; i++) {
                sums[0] += cols[i] * 31L + Float.floatToIntBits(ws[i]);
                assertThat(m.rowOffset(t) + i - from).isBetween(0, m.nonZeros() - 1);
            }
        });
        d.forEachRow((t, cols, ws, from, to) -> {
            assertThat(to - from).isEqualTo(m.rowSize(t));
            rowsSeen[1]++;
            for (int i = from; i < to; i++) {
                sums[1] += cols[i] * 31L + Float.floatToIntBits(ws[i]);
            }
        });
        assertThat(rowsSeen).containsExactly(3000, 3000);
        assertThat(sums[1]).isEqualTo(sums[0]);
        for (int t : new int[] {0, 1, 1499, 2999}) {
            for (int i = 0; i < m.rowSize(t); i += 7) {
                assertThat(d.columnAt(t, i)).isEqualTo(m.columnAt(t, i));
                assertThat(d.weightAt(t, i)).isEqualTo(m.weightAt(t, i));
                assertThat(d.get(t, m.columnAt(t, i))).isEqualTo(m.weightAt(t, i));
            }
        }
        java.util.List<Integer> order = new java.util.ArrayList<>();
        long[] descendingSum = {0};
        d.forEachRowDescending((t, cols, ws, from, to) -> {
            order.add(t);
            assertThat(to - from).isEqualTo(m.rowSize(t));
            for (int i = from; i < to; i++) {
                descendingSum[0] += cols[i] * 31L + Float.floatToIntBits(ws[i]);
            }
        });
        assertThat(order).hasSize(3000).startsWith(2999, 2998).endsWith(1, 0);
        assertThat(descendingSum[0]).isEqualTo(sums[0]);
        java.util.List<Integer> heldOrder = new java.util.ArrayList<>();
        m.forEachRowDescending((t, cols, ws, from, to) -> heldOrder.add(t));
        assertThat(heldOrder).isEqualTo(order);
        int[] partial = new int[1];
        d.forEachRow(1000, 1003, (t, cols, ws, from, to) -> partial[0] += t);
        assertThat(partial[0]).isEqualTo(1000 + 1001 + 1002);
    }

    @Test
    void aFileBackedMatrixRefusesAShortFileAndValidatesColumns(@org.junit.jupiter.api.io.TempDir
                                                              java.nio.file.Path dir) throws Exception {
        EdgeMatrix m = new EdgeMatrix(3, new int[] {0, 2, 2, 3}, new int[] {0, 2, 1}, new float[] {1, 2, 3});
        java.nio.file.Path file = write(m, dir.resolve("ok.bin"), 0);
        assertThatThrownBy(() -> EdgeMatrix.onDisk(3, m.rowStart(), file, 0, 16, false, false))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("too few");
        EdgeMatrix unordered = EdgeMatrix.adopt(3, new int[] {0, 2, 2, 3}, new int[] {0, 2, 1},
                new float[] {1, 2, 3});
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(2).putInt(0).putInt(1).putFloat(1).putFloat(2).putFloat(3);
        java.nio.file.Path bad = dir.resolve("bad.bin");
        java.nio.file.Files.write(bad, b.array());
        assertThatThrownBy(() -> EdgeMatrix.onDisk(3, unordered.rowStart(), bad, 0, 12, false, true))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("row 0");
    }

    @Test
    void adoptTakesTheArraysWithoutCopyingButStillValidates() {
        int[] columns = {1};
        EdgeMatrix adopted = EdgeMatrix.adopt(2, new int[] {0, 1, 1}, columns, new float[] {3f});
        assertThat(adopted.get(0, 1)).isEqualTo(3f);
        assertThatThrownBy(() -> EdgeMatrix.adopt(2, new int[] {0, 1, 1}, new int[] {7}, new float[] {1f}))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("ascending");
    }
}
