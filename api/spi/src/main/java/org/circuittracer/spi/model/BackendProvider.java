package org.circuittracer.spi.model;

import java.nio.file.Path;
import java.util.Set;
import org.circuittracer.spi.Provider;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Extension point for model backends. Registered in
 * {@code META-INF/services/org.circuittracer.spi.model.BackendProvider}.
 */
@ConsumerType
public interface BackendProvider extends Provider {

    /** Everything models opened by this backend can do (a model may report fewer, e.g. no CUDA on this machine). */
    Set<BackendCapability> capabilities();

    /**
     * Whether this backend can open the directory (e.g. a known {@code architectures} entry in {@code config.json}).
     * Cheap: reads at most small configuration files.
     */
    boolean canOpen(Path directory);

    /**
     * Opens a model.
     *
     * @throws org.circuittracer.spi.CircuitTracerException FILE_NOT_FOUND, MALFORMED_FILE or UNSUPPORTED_ARCHITECTURE
     *         with a message naming the file, the field and the supported values
     */
    TransformerModel create(ModelSource source);
}
