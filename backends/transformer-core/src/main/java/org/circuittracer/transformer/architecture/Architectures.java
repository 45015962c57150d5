package org.circuittracer.transformer.architecture;

import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/** The architectures this backend implements. */
public final class Architectures {

    private static final List<Architecture> ALL = List.of(new Gpt2Architecture(), new LlamaArchitecture(),
            new Gemma2Architecture(), new Qwen3Architecture(), new Gemma3Architecture(),
            new Gemma3MultimodalArchitecture());

    private Architectures() {
    }

    /** The supported Hugging Face class names. */
    public static List<String> names() {
        return ALL.stream().map(Architecture::name).toList();
    }

    /** The first supported entry of {@code config.json}'s {@code architectures}, if any. */
    public static Optional<Architecture> find(JsonConfig config) {
        List<String> declared = config.strings("architectures").orElse(List.of());
        return declared.stream().flatMap(name -> ALL.stream().filter(a -> a.name().equals(name))).findFirst();
    }

    /**
     * The architecture {@code config.json} declares.
     *
     * @throws CircuitTracerException MALFORMED_FILE without an {@code architectures} list, UNSUPPORTED_ARCHITECTURE
     *         listing the supported ones when none matches
     */
    public static Architecture require(JsonConfig config) {
        List<String> declared = config.strings("architectures").orElseThrow(() -> config.malformed(
                "the required field \"architectures\" (e.g. [\"LlamaForCausalLM\"]) is missing"));
        return find(config).orElseThrow(() -> new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                config.file() + " declares the architecture " + declared + ", which circuit-tracer does not "
                        + "implement. Supported: " + String.join(", ", names()) + "."));
    }
}
