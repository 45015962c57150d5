package org.circuittracer.spi.attribution;

import java.util.Map;
import org.circuittracer.spi.Provider;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Extension point for attribution algorithms. Registered in
 * {@code META-INF/services/org.circuittracer.spi.attribution.AttributorProvider}.
 */
@ConsumerType
public interface AttributorProvider extends Provider {

    /**
     * Creates an attributor.
     *
     * @param settings provider-specific settings (documented by each provider); unknown keys are an error
     */
    Attributor create(Map<String, String> settings);
}
