package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;

/** The MLP of a block: {@code [T, d]} to {@code [T, d]}. */
public sealed interface Mlp {

    /** Applies the MLP; the result belongs to {@code x}'s manager. */
    NDArray apply(NDArray x);

    /** Hidden width. */
    long hiddenWidth();

    /**
     * {@code down(act(gate(x)) ⊙ up(x))} (Llama, Gemma, Qwen).
     *
     * @param gate {@code [d, m]}
     * @param up   {@code [d, m]}
     * @param down {@code [m, d]}
     */
    record Gated(Linear gate, Linear up, Linear down, Activation activation) implements Mlp {
        @Override
        public NDArray apply(NDArray x) {
            return down.apply(activation.apply(gate.apply(x)).mul(up.apply(x)));
        }

        @Override
        public long hiddenWidth() {
            return gate.outputWidth();
        }
    }

    /**
     * {@code out(act(in(x)))} (GPT-2).
     *
     * @param in  {@code [d, m]}
     * @param out {@code [m, d]}
     */
    record Dense(Linear in, Linear out, Activation activation) implements Mlp {
        @Override
        public NDArray apply(NDArray x) {
            return out.apply(activation.apply(in.apply(x)));
        }

        @Override
        public long hiddenWidth() {
            return in.outputWidth();
        }
    }
}
