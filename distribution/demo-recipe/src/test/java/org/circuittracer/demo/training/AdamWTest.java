package org.circuittracer.demo.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The optimiser minimises a quadratic, and a step with a non-finite gradient is skipped and then cleared. */
class AdamWTest {

    @Test
    void minimisesAQuadraticAndRecoversFromANonFiniteGradient() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {3f, -2f, 1f, 4f}).reshape(2, 2);
            AdamW adam = new AdamW(List.of(w), 0.9f, 0.99f, 1e-8f, 0f, 10f);

            backward(w, false);
            float[] before = w.toFloatArray();
            assertThat(adam.step(0.1f)).isNaN();
            assertThat(w.toFloatArray()).as("a non-finite step leaves the weights alone").containsExactly(before);

            for (int i = 0; i < 300; i++) {
                adam.zeroGradients();
                backward(w, true);
                assertThat(adam.step(0.05f)).as("step " + i).isFinite();
            }
            for (float v : w.toFloatArray()) {
                assertThat(Math.abs(v)).isLessThan(0.05f);
            }
        }
    }

    /** Gradient of Σw² (finite) or of Σw²·(0·∞) (NaN). */
    private static void backward(NDArray w, boolean finite) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.square().sum();
            if (!finite) {
                loss = loss.mul(w.getManager().create(Float.POSITIVE_INFINITY).mul(0f));
            }
            collector.backward(loss);
        }
    }
}
