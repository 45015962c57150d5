package org.circuittracer.attribution.exact;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.util.TreeSet;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;

/**
 * The attributor {@value #NAME}: exact direct effects from the backend's vector-Jacobian products, with
 * influence-ordered feature selection (docs/reference/algorithm.md §3). Takes no settings: everything that varies per graph is in the
 * {@link org.circuittracer.spi.attribution.AttributionRequest}.
 */
// OPTIONAL: without it the bundle would require the osgi.serviceloader.registrar extender (SPI Fly) to resolve.
@ServiceProvider(value = AttributorProvider.class, resolution = Resolution.OPTIONAL)
public final class ExactAttributorProvider implements AttributorProvider {

    /** The provider's name. */
    public static final String NAME = "exact";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Exact direct effects from vector-Jacobian products of the linearised model (the reference algorithm).";
    }

    @Override
    public Attributor create(AttributorOptions options) {
        if (!options.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The exact attributor takes no "
                    + "settings, got " + new TreeSet<>(options.values().keySet()) + "; set targets, max-feature-nodes, "
                    + "batch-size and update-interval on the attribution request.");
        }
        return new ExactAttributor();
    }
}
