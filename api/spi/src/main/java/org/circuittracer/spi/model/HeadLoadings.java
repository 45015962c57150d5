package org.circuittracer.spi.model;

import java.util.Arrays;
import org.circuittracer.spi.CircuitTracerException;

/**
 * How each of a list of edges splits over the attention heads of every layer (docs/attention.md). For edge
 * {@code e} from source {@code s} to target {@code t} and every attention layer {@code m}, in the linearised model
 * (patterns and norm scales frozen, MLPs cut): {@code total(e) = Σ_h loading(e, m, h) + bypass(e, m)}, where
 * {@code loading(e, m, h)} is the part of the edge carried by the paths through head {@code h} of layer {@code m}, and
 * {@code bypass(e, m)} the part of the paths that do not pass layer {@code m}'s attention (the residual around it, a
 * source that writes at or above {@code m}, a target below it).
 *
 * @param edges    {@code E}
 * @param layers   {@code L}, the model's attention layers
 * @param heads    {@code H}, query heads per layer
 * @param loadings {@code [E, L, H]} row-major
 * @param bypass   {@code [E, L]}
 * @param totals   {@code [E]}: each edge as the sum of its writes' direct effects ({@code ⟨gradient, vector⟩} summed
 *                 over the source's writes), the same number an attribution graph holds
 */
public record HeadLoadings(int edges, int layers, int heads, float[] loadings, float[] bypass, float[] totals) {

    public HeadLoadings {
        if (edges < 0 || layers < 0 || heads < 0 || loadings.length != (long) edges * layers * heads
                || bypass.length != (long) edges * layers || totals.length != edges) {
            throw CircuitTracerException.invalidArgument("Head loadings of " + edges + " edges, " + layers
                    + " layers and " + heads + " heads need " + (long) edges * layers * heads + " loadings, "
                    + (long) edges * layers + " bypass terms and " + edges + " totals; got " + loadings.length + ", "
                    + bypass.length + " and " + totals.length + ".");
        }
        loadings = loadings.clone();
        bypass = bypass.clone();
        totals = totals.clone();
    }

    /** The part of edge {@code edge} carried by head {@code head} of layer {@code layer}. */
    public float loading(int edge, int layer, int head) {
        return loadings[(edge * layers + layer) * heads + head];
    }

    /** The part of edge {@code edge} that does not pass layer {@code layer}'s attention. */
    public float bypass(int edge, int layer) {
        return bypass[edge * layers + layer];
    }

    /** Edge {@code edge} itself. */
    public float total(int edge) {
        return totals[edge];
    }

    @Override
    public float[] loadings() {
        return loadings.clone();
    }

    @Override
    public float[] bypass() {
        return bypass.clone();
    }

    @Override
    public float[] totals() {
        return totals.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof HeadLoadings that && edges == that.edges && layers == that.layers
                && heads == that.heads && Arrays.equals(loadings, that.loadings) && Arrays.equals(bypass, that.bypass)
                && Arrays.equals(totals, that.totals);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(loadings) + Arrays.hashCode(bypass)) + Arrays.hashCode(totals);
    }

    @Override
    public String toString() {
        return "HeadLoadings[" + edges + " edges, " + layers + " layers, " + heads + " heads]";
    }
}
