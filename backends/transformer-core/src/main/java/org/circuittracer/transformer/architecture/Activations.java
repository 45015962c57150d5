package org.circuittracer.transformer.architecture;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.decoder.Activation;

/** Reads an activation name from {@code config.json}. */
final class Activations {

    private Activations() {
    }

    static Activation read(JsonConfig json, String field, Activation fallback) {
        return json.string(field).map(name -> Activation.fromHuggingFaceName(name).orElseThrow(
                () -> new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, json.file() + ": \""
                        + field + "\" is \"" + name + "\", which circuit-tracer does not implement. Supported: "
                        + Activation.supportedNames() + ".")))
                .orElse(fallback);
    }
}
