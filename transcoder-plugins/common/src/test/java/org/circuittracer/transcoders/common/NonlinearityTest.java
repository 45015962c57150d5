package org.circuittracer.transcoders.common;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The activation functions of docs/reference/algorithm.md §2.2, on hand-made pre-activations. */
class NonlinearityTest {

    private NDManager manager;

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    private NDArray rows(float[]... rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        }
        return manager.create(flat, new Shape(rows.length, rows[0].length));
    }

    @Test
    void reluClampsNegativesToZero() {
        NDArray h = rows(new float[] {-1.5f, 0f, 2.5f});
        assertThat(new Nonlinearity.Relu().apply(h).toFloatArray()).containsExactly(0f, 0f, 2.5f);
        assertThat(new Nonlinearity.Relu().function()).isEqualTo(new ActivationFunction.Relu());
    }

    @Test
    void jumpReluPassesOnlyValuesStrictlyAboveTheirOwnThreshold() {
        NDArray theta = manager.create(new float[] {0.5f, 0.5f, -1f, 2f});
        NDArray h = rows(new float[] {0.5f, 0.6f, -0.5f, 1.9f});
        // equal to θ: off (strict); above: passes unchanged, even when negative; below: off
        assertThat(new Nonlinearity.JumpRelu(theta).apply(h).toFloatArray()).containsExactly(0f, 0.6f, -0.5f, 0f);
    }

    @Test
    void topKKeepsTheKLargestPerPositionAndNegativesSurvive() {
        NDArray h = rows(new float[] {3f, -1f, 2f, 0.5f}, new float[] {-4f, -1f, -2f, -3f});
        float[] a = new Nonlinearity.TopK(2).apply(h).toFloatArray();
        assertThat(a).containsExactly(3f, 0f, 2f, 0f, /* all negative: the two largest survive */ 0f, -1f, -2f, 0f);
        assertThat(new Nonlinearity.TopK(2).function()).isEqualTo(new ActivationFunction.TopK(2));
    }

    @Test
    void reluAfterTopKKeepsOnlyThePositiveAmongTheKLargest() {
        NDArray h = rows(new float[] {3f, -1f, 2f, 0.5f}, new float[] {-4f, 1f, -2f, -3f});
        float[] a = new Nonlinearity.ReluTopK(2).apply(h).toFloatArray();
        assertThat(a).containsExactly(3f, 0f, 2f, 0f, /* one positive: only it survives */ 0f, 1f, 0f, 0f);
    }

    @Test
    void reluAfterTopKIsReportedAsANamedOtherFunctionThatParsesBack() {
        ActivationFunction function = Nonlinearity.ReluTopK.function(64);
        assertThat(function).isEqualTo(new ActivationFunction.Other("relu-topk(k=64)"));
        assertThat(Nonlinearity.ReluTopK.of(function)).hasValue(64);
        assertThat(Nonlinearity.ReluTopK.of(new ActivationFunction.TopK(64))).isEmpty();
        assertThat(Nonlinearity.ReluTopK.of(new ActivationFunction.Other("relu-topk(k=0)"))).isEmpty();
        assertThat(Nonlinearity.ReluTopK.of(new ActivationFunction.Other("matching-pursuit"))).isEmpty();
    }

    @Test
    void resultsAreNewArraysAndTheInputIsUnchanged() {
        NDArray h = rows(new float[] {-1f, 1f});
        new Nonlinearity.Relu().apply(h);
        new Nonlinearity.TopK(1).apply(h);
        new Nonlinearity.ReluTopK(1).apply(h);
        new Nonlinearity.JumpRelu(manager.create(new float[] {0f, 0f})).apply(h);
        assertThat(h.toFloatArray()).containsExactly(-1f, 1f);
    }
}
