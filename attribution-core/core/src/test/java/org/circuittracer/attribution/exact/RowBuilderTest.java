package org.circuittracer.attribution.exact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RowBuilderTest {

    @Test
    void keepsTheNonZeroWeightsOfEachRunAtTheirColumns() {
        RowBuilder row = new RowBuilder();
        row.addRun(3, new float[] {9f, 1f, 0f, -2f}, 1, 3);
        row.addRun(10, new float[] {0f, 0f}, 0, 2);
        row.addRun(20, new float[] {5f}, 0, 1);

        assertThat(row.columns()).containsExactly(3, 5, 20);
        assertThat(row.weights()).containsExactly(1f, -2f, 5f);
        assertThat(row.hasNonFinite()).isFalse();
    }

    @Test
    void growsPastItsInitialCapacity() {
        RowBuilder row = new RowBuilder();
        float[] ones = new float[1000];
        java.util.Arrays.fill(ones, 1f);
        row.addRun(0, ones, 0, 700);
        row.addRun(700, ones, 0, 300);

        assertThat(row.columns()).hasSize(1000).startsWith(0, 1).endsWith(998, 999);
    }

    @Test
    void flagsNonFiniteWeights() {
        RowBuilder row = new RowBuilder();
        row.addRun(0, new float[] {1f, Float.NaN}, 0, 2);

        assertThat(row.hasNonFinite()).isTrue();
    }

    @Test
    void refusesColumnsOutOfOrder() {
        RowBuilder row = new RowBuilder();
        row.addRun(5, new float[] {1f, 2f}, 0, 2);

        assertThatThrownBy(() -> row.addRun(6, new float[] {1f}, 0, 1)).isInstanceOf(IllegalStateException.class);
    }
}
