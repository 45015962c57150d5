package org.circuittracer.transformer.architecture;

import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * One Hugging Face architecture (a value of {@code config.json}'s {@code architectures}). Adding one means: a class
 * like {@link LlamaArchitecture} that reads its configuration into a record and its weights into a
 * {@link org.circuittracer.transformer.decoder.Decoder}, plus an entry in {@link Architectures}.
 */
public interface Architecture {

    /** The Hugging Face class name, e.g. {@code LlamaForCausalLM}. */
    String name();

    /**
     * Reads and checks the configuration (no weights, no native code).
     *
     * @throws org.circuittracer.spi.CircuitTracerException MALFORMED_FILE naming the file and the field,
     *         UNSUPPORTED_ARCHITECTURE for a variant this backend does not implement
     */
    ArchitectureConfig read(JsonConfig config);
}
