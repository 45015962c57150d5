package org.circuittracer.spi.attribution;

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
     * @param options the provider's own settings (documented by each provider); unknown names are an
     *                INVALID_ARGUMENT error ({@link AttributorOptions#requireOnly})
     */
    Attributor create(AttributorOptions options);
}
