package org.circuittracer.spi.model;

import java.nio.file.Path;
import java.util.Set;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.SourceRecognizer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Extension point for model backends. Registered in
 * {@code META-INF/services/org.circuittracer.spi.model.BackendProvider}. Auto-detection asks every backend's
 * {@link #recognize(java.nio.file.Path)}: {@code CERTAIN} when the directory holds the weight files this backend reads
 * for an architecture it implements, {@code POSSIBLE} when only the configuration fits.
 */
@ConsumerType
public interface BackendProvider extends Provider, SourceRecognizer {

    /** Everything models opened by this backend can do (a model may report fewer, e.g. no CUDA on this machine). */
    Set<BackendCapability> capabilities();

    /**
     * Opens a model.
     *
     * @throws org.circuittracer.spi.CircuitTracerException FILE_NOT_FOUND, MALFORMED_FILE or UNSUPPORTED_ARCHITECTURE
     *         with a message naming the file, the field and the supported values
     */
    TransformerModel create(ModelSource source);
}
