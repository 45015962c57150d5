package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * Which activation a reference set computes, from what {@code config.yaml}, the files and the options say.
 *
 * <ul>
 *   <li>{@code activation: relu} or {@code activation: topk} with {@code k}: that (an explicit ReLU wins over
 *       thresholds, as in the reference).</li>
 *   <li>{@code activation: topk} without {@code k}: k from the files' scalar {@code k} tensor (what circuit-tracer's
 *       {@code to_safetensors} writes for a TopK transcoder), else the {@code topk} option ({@code --topk K}), else the
 *       repositories whose k the reference hard-codes ({@link KnownTopK}), else an error that says to pass
 *       {@code --topk K}.</li>
 *   <li>no {@code activation}, or {@code activation: jumprelu} (circuit-tracer PR #94: the threshold tensors decide):
 *       JumpReLU with thresholds, TopK with a {@code k} tensor or the {@code topk} option, else ReLU (a JumpReLU without
 *       thresholds, as the reference computes it).</li>
 * </ul>
 * Sources that give k must agree.
 */
final class Activations {

    private static final System.Logger LOG = System.getLogger(Activations.class.getName());

    private Activations() {
    }

    /**
     * @param fileK      the files' {@code k} tensor, if they have one
     * @param thresholds whether the files have JumpReLU thresholds
     * @param kOrigin    where {@code fileK} comes from, for messages
     */
    static ActivationFunction choose(Path directory, ReferenceConfig config, ReferenceOptions options, OptionalInt fileK,
                                     boolean thresholds, String kOrigin) {
        Path configFile = directory.resolve(ReferenceConfig.FILE_NAME);
        OptionalInt option = options.topK();
        if (config.activation().isPresent()) {
            ActivationFunction declared = config.activation().get();
            if (declared instanceof ActivationFunction.TopK topK) {
                if (fileK.isPresent() && fileK.getAsInt() != topK.k()) {
                    throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, configFile + " says k: "
                            + topK.k() + " but " + kOrigin + " holds k = " + fileK.getAsInt() + "; make them agree.");
                }
                agree(option, topK.k(), configFile + " says k: " + topK.k());
                return declared;
            }
            if (fileK.isPresent()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, configFile + " says 'activation: "
                        + "relu' but " + kOrigin + " holds a TopK k = " + fileK.getAsInt() + "; write 'activation: "
                        + "topk' (or remove the k tensor).");
            }
            if (option.isPresent()) {
                throw topKForAnotherActivation(option.getAsInt(), configFile + " says 'activation: relu'");
            }
            return declared;
        }
        if (config.topKWithoutK()) {
            if (fileK.isPresent()) {
                agree(option, fileK.getAsInt(), kOrigin + " holds k = " + fileK.getAsInt());
                return new ActivationFunction.TopK(fileK.getAsInt());
            }
            if (option.isPresent()) {
                return new ActivationFunction.TopK(option.getAsInt());
            }
            Optional<String> known = KnownTopK.repository(config, directory);
            if (known.isPresent()) {
                int k = KnownTopK.K_BY_REPOSITORY.get(known.get());
                LOG.log(System.Logger.Level.WARNING, () -> configFile + ": 'activation: topk' without k; using k = " + k
                        + " for " + known.get() + " as circuit-tracer does (pass --topk K to choose another k)");
                return new ActivationFunction.TopK(k);
            }
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, configFile + ": k is missing; "
                    + "'activation: topk' needs k, the number of features kept per position, and neither config.yaml "
                    + "nor the weight files give it. Pass --topk K (the dictionary option " + ReferenceOptions.TOPK
                    + "=K), or add 'k: K' to config.yaml.");
        }
        String declared = config.activationName().map(n -> "'activation: " + n + "'").orElse("no activation");
        if (thresholds && fileK.isPresent()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, kOrigin + " holds both JumpReLU "
                    + "thresholds and a TopK k; " + configFile + " has " + declared + ": write 'activation: topk' or "
                    + "'activation: jumprelu' to choose, or remove one of them.");
        }
        if (thresholds) {
            if (option.isPresent()) {
                throw topKForAnotherActivation(option.getAsInt(), directory + " holds JumpReLU thresholds");
            }
            return new ActivationFunction.JumpRelu();
        }
        if (fileK.isPresent()) {
            agree(option, fileK.getAsInt(), kOrigin + " holds k = " + fileK.getAsInt());
            return new ActivationFunction.TopK(fileK.getAsInt());
        }
        if (option.isPresent()) {
            LOG.log(System.Logger.Level.DEBUG, () -> configFile + " has " + declared + " and the files no thresholds; "
                    + "reading TopK with k = " + option.getAsInt() + " as the topk option says");
            return new ActivationFunction.TopK(option.getAsInt());
        }
        if (config.activationName().isPresent()) {
            LOG.log(System.Logger.Level.DEBUG, () -> configFile + " says 'activation: jumprelu' but the files hold no "
                    + "thresholds; reading ReLU (a JumpReLU at threshold 0), as circuit-tracer does");
        }
        return new ActivationFunction.Relu();
    }

    private static void agree(OptionalInt option, int k, String source) {
        if (option.isPresent() && option.getAsInt() != k) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--topk " + option.getAsInt()
                    + " (option " + ReferenceOptions.TOPK + ") disagrees with " + source + "; leave --topk out.");
        }
    }

    private static CircuitTracerException topKForAnotherActivation(int k, String why) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "--topk " + k + " (option "
                + ReferenceOptions.TOPK + ") is for TopK transcoders, but " + why + "; leave --topk out.");
    }
}
