package org.circuittracer.spi;

import static org.circuittracer.spi.ErrorCategory.INSUFFICIENT_RESOURCES;
import static org.circuittracer.spi.ErrorCategory.INTERNAL_ERROR;
import static org.circuittracer.spi.ErrorCategory.PLUGIN_ERROR;
import static org.circuittracer.spi.ErrorCategory.USER_ERROR;

/** The error codes used by the SPI, the runtime and the core. */
public enum StandardErrorCode implements ErrorCode {
    /** An argument is out of range or malformed (token id, position, layer, feature id, option value). */
    INVALID_ARGUMENT(USER_ERROR),
    /** A file or directory the user named does not exist or cannot be read. */
    FILE_NOT_FOUND(USER_ERROR),
    /** A file exists but its contents are malformed (safetensors, config, graph, dictionary files). */
    MALFORMED_FILE(USER_ERROR),
    /** A file is in a newer or older format version than this build can read. */
    UNSUPPORTED_FORMAT_VERSION(USER_ERROR),
    /** A model configuration names an architecture no backend implements. */
    UNSUPPORTED_ARCHITECTURE(USER_ERROR),
    /** Two inputs do not fit together, e.g. a dictionary for another model width or layer count. */
    INCOMPATIBLE_INPUTS(USER_ERROR),
    /** No provider of the requested kind has the requested name. */
    PROVIDER_NOT_FOUND(USER_ERROR),
    /** A provider lacks a capability the requested work needs. */
    MISSING_CAPABILITY(USER_ERROR),
    /** The user cancelled the work. */
    CANCELLED(USER_ERROR),
    /** A provider has an invalid name or could not be instantiated. */
    INVALID_PROVIDER(PLUGIN_ERROR),
    /** A plugin failed in a way that is not the user's input's fault. */
    PLUGIN_FAILURE(PLUGIN_ERROR),
    /** A broken invariant inside circuit-tracer. */
    INTERNAL(INTERNAL_ERROR),
    /** Memory, disk space or another resource ran out. */
    OUT_OF_RESOURCES(INSUFFICIENT_RESOURCES);

    private final ErrorCategory category;

    StandardErrorCode(ErrorCategory category) {
        this.category = category;
    }

    @Override
    public String code() {
        return name();
    }

    @Override
    public ErrorCategory category() {
        return category;
    }
}
