package org.circuittracer.transcoders.mp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** The matching-pursuit encoder: greedy selection of atoms against the input's residual. */
final class Pursuit {

    private Pursuit() {
    }

    /**
     * Activations of {@code steps} pursuit steps.
     *
     * @param centered {@code [T, d]} the input minus {@code b_pre}
     * @param atoms    {@code [F, d]} unit-norm atoms
     * @return {@code [T, F]}, non-negative, at most {@code steps} non-zeros per row; owned by {@code centered}'s manager
     */
    static NDArray encode(NDArray centered, NDArray atoms, int steps) {
        int features = Math.toIntExact(atoms.getShape().get(0));
        NDArray atomsT = atoms.transpose();
        atomsT.attach(centered.getManager()); // a transpose lands in the atoms' manager otherwise
        NDArray residual = centered;
        NDArray codes = centered.getManager().zeros(new Shape(centered.getShape().get(0), features));
        for (int step = 0; step < steps; step++) {
            NDArray scores = residual.matMul(atomsT);                        // [T, F]
            // the best atom per position; a non-positive best score selects nothing (its coefficient clamps to 0)
            NDArray coefficient = scores.max(new int[] {1}).maximum(0f);     // [T]
            NDArray chosen = scores.argMax(1).oneHot(features).toType(DataType.FLOAT32, false)
                    .mul(coefficient.expandDims(1));                         // [T, F]
            codes = codes.add(chosen);
            residual = residual.sub(chosen.matMul(atoms));
        }
        return codes;
    }
}
