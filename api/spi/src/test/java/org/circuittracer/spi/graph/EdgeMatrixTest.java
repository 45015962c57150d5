package org.circuittracer.spi.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
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
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 1");
    }
}
