package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.Optional;

/** The MLP nonlinearities of the supported architectures, by their Hugging Face names. */
public enum Activation {
    /** {@code x · sigmoid(x)} (Llama, Qwen). */
    SILU("silu", "swish"),
    /** The tanh approximation of GELU (GPT-2's {@code gelu_new}, Gemma's {@code gelu_pytorch_tanh}). */
    GELU_TANH("gelu_new", "gelu_pytorch_tanh"),
    /** The exact, erf-based GELU. */
    GELU("gelu");

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    private final String[] names;

    Activation(String... names) {
        this.names = names;
    }

    /** The activation named {@code name} in a {@code config.json}. */
    public static Optional<Activation> fromHuggingFaceName(String name) {
        return Arrays.stream(values()).filter(a -> Arrays.asList(a.names).contains(name)).findFirst();
    }

    /** Every accepted name, for error messages. */
    public static String supportedNames() {
        return String.join(", ", Arrays.stream(values()).flatMap(a -> Arrays.stream(a.names)).toList());
    }

    /** Applies the activation element-wise. */
    public NDArray apply(NDArray x) {
        return switch (this) {
            case SILU -> x.mul(ai.djl.nn.Activation.sigmoid(x));
            case GELU_TANH -> x.mul(0.5f).mul(x.pow(3).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI).tanh().add(1f));
            case GELU -> ai.djl.nn.Activation.gelu(x);
        };
    }
}
