package org.circuittracer.testplugin;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendCapability;

/**
 * The attributor {@value #NAME}: a test fixture for the plugin runtimes. Its attributor needs no backend capability
 * and refuses to compute anything.
 */
// OPTIONAL: without it the bundle would require the osgi.serviceloader.registrar extender (SPI Fly) to resolve.
@ServiceProvider(value = AttributorProvider.class, resolution = Resolution.OPTIONAL)
public final class TestFixtureAttributorProvider implements AttributorProvider {

    /** The provider's name. */
    public static final String NAME = "test-fixture";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Test bundle for the plugin runtime; computes no graphs.";
    }

    @Override
    public Attributor create(AttributorOptions options) {
        if (!options.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The test-fixture attributor takes no "
                    + "settings, got " + options.values().keySet() + ".");
        }
        return new Attributor() {
            @Override
            public Set<BackendCapability> requiredCapabilities() {
                return Set.of();
            }

            @Override
            public AttributionGraph attribute(AttributionRequest request, AttributionListener listener) {
                throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "The test-fixture attributor is a "
                        + "test bundle for the plugin runtime; it computes no graphs. Use the 'exact' attributor.");
            }
        };
    }
}
