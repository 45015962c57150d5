package org.circuittracer.transcoders.community;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.assertj.core.data.Offset;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;

/**
 * Two dictionaries holding the same weights compute the same thing: pre-activations and reconstructions within
 * float32 rounding (the encoder may be multiplied in another memory layout), the same active features, and identical
 * encoder and decoder rows.
 */
public final class SameComputation {

    private static final float TOLERANCE = 1e-5f;

    private SameComputation() {
    }

    public static void assertSame(SparseDictionary expected, SparseDictionary actual) {
        assertSame(expected, actual, true);
    }

    /**
     * @param sameActivation whether the activation functions must also be described alike (not when one format's
     *                       TopK is ReLU after TopK and the inputs make them agree)
     */
    public static void assertSame(SparseDictionary expected, SparseDictionary actual, boolean sameActivation) {
        assertThat(actual.layers()).isEqualTo(expected.layers());
        assertThat(actual.width()).isEqualTo(expected.width());
        assertThat(actual.readSite()).isEqualTo(expected.readSite());
        assertThat(actual.writeSite()).isEqualTo(expected.writeSite());
        Random random = new Random(99);
        try (NDManager scope = NDManager.newBaseManager()) {
            List<NDArray> inputs = new ArrayList<>();
            int active = 0;
            for (int layer = 0; layer < expected.layers(); layer++) {
                String where = "layer " + layer + ": ";
                assertThat(actual.features(layer)).isEqualTo(expected.features(layer));
                if (sameActivation) {
                    assertThat(actual.activation(layer)).as(where + "activation")
                            .isEqualTo(expected.activation(layer));
                }
                assertThat(actual.skip(layer).isPresent()).as(where + "skip")
                        .isEqualTo(expected.skip(layer).isPresent());
                int[] all = IntStream.range(0, expected.features(layer)).toArray();
                assertThat(actual.encoderRows(scope, layer, all).toFloatArray()).as(where + "encoder rows")
                        .containsExactly(expected.encoderRows(scope, layer, all).toFloatArray());
                assertThat(actual.decoderRows(scope, layer, all, layer).toFloatArray()).as(where + "decoder rows")
                        .containsExactly(expected.decoderRows(scope, layer, all, layer).toFloatArray());
                float[] values = new float[8 * expected.width()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                }
                NDArray x = scope.create(values, new Shape(8, expected.width()));
                inputs.add(x);
                assertClose(actual.preActivations(scope, layer, x), expected.preActivations(scope, layer, x),
                        where + "pre-activations");
                SparseActivations a = actual.encodeSparse(scope, layer, x, Set.of(0));
                SparseActivations e = expected.encodeSparse(scope, layer, x, Set.of(0));
                assertThat(a.positions()).as(where + "active positions").containsExactly(e.positions());
                assertThat(a.features()).as(where + "active features").containsExactly(e.features());
                assertThat(a.values()).as(where + "activations").containsExactly(e.values(), Offset.offset(TOLERANCE));
                active += e.size();
            }
            assertThat(active).as("some features fire").isPositive();
            for (int out = 0; out < expected.layers(); out++) {
                SparseActivations code = expected.encodeSparse(scope, out, inputs.get(out), Set.of(0));
                assertClose(actual.decode(scope, out, List.of(code), inputs.get(out)),
                        expected.decode(scope, out, List.of(code), inputs.get(out)), "decoding layer " + out);
            }
        }
    }

    private static void assertClose(NDArray actual, NDArray expected, String what) {
        assertThat(actual.getShape()).as(what).isEqualTo(expected.getShape());
        float[] e = expected.toFloatArray();
        float scale = 1;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertThat(actual.toFloatArray()).as(what).containsExactly(e, Offset.offset(TOLERANCE * scale));
    }
}
