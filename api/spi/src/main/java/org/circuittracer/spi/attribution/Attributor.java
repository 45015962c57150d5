package org.circuittracer.spi.attribution;

import java.util.Set;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendCapability;
import org.osgi.annotation.versioning.ConsumerType;

/** Computes attribution graphs. Thread-safe; one attributor may serve many requests. */
@ConsumerType
public interface Attributor {

    /** The backend capabilities this attributor needs (checked before any work starts). */
    Set<BackendCapability> requiredCapabilities();

    /**
     * Computes the graph of {@code request}.
     *
     * @throws org.circuittracer.spi.CircuitTracerException MISSING_CAPABILITY, INCOMPATIBLE_INPUTS (dictionary does not
     *         fit the model), INVALID_ARGUMENT (bad targets), CANCELLED
     */
    AttributionGraph attribute(AttributionRequest request, AttributionListener listener);
}
