package org.circuittracer.demo.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam with decoupled weight decay, updating parameters in place (outside a gradient collector, so no graph is
 * recorded). Gradients are clipped to a global norm first. Decay applies only to matrices, not to norm gains.
 */
public final class AdamW {

    private final List<NDArray> parameters;
    private final List<NDArray> first = new ArrayList<>();
    private final List<NDArray> second = new ArrayList<>();
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private final float clipNorm;
    private int step;
    private boolean nonFiniteGradients;

    public AdamW(List<NDArray> parameters, float beta1, float beta2, float epsilon, float weightDecay, float clipNorm) {
        this.parameters = List.copyOf(parameters);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.clipNorm = clipNorm;
        for (NDArray p : parameters) {
            first.add(p.zerosLike());
            second.add(p.zerosLike());
            p.setRequiresGradient(true);
        }
    }

    /** One update with learning rate {@code lr}; returns the gradient norm before clipping. */
    public float step(float lr) {
        step++;
        double squares = 0;
        for (NDArray p : parameters) {
            squares += p.getGradient().square().sum().getFloat();
        }
        float norm = (float) Math.sqrt(squares);
        if (!Float.isFinite(norm)) {
            nonFiniteGradients = true; // skip this update rather than poison the moments
            return norm;
        }
        float scale = norm > clipNorm ? clipNorm / norm : 1f;
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        for (int i = 0; i < parameters.size(); i++) {
            NDArray p = parameters.get(i);
            NDArray g = p.getGradient().mul(scale);
            NDArray m = first.get(i);
            NDArray v = second.get(i);
            m.muli(beta1).addi(g.mul(1 - beta1));
            v.muli(beta2).addi(g.square().mul(1 - beta2));
            NDArray update = m.div(c1).div(v.div(c2).sqrt().add(epsilon));
            if (p.getShape().dimension() > 1 && weightDecay > 0) {
                update = update.add(p.mul(weightDecay));
            }
            p.subi(update.mul(lr));
        }
        return norm;
    }

    /** Sets every gradient to zero (they accumulate across backward passes). */
    public void zeroGradients() {
        for (NDArray p : parameters) {
            NDArray g = p.getGradient();
            g.muli(0f);
            if (nonFiniteGradients) {
                // NaN · 0 is NaN: after a skipped step, overwrite what multiplying cannot clear
                g.set(new NDIndex("{}", g.isNaN()), 0f);
            }
        }
        nonFiniteGradients = false;
    }
}
