package org.circuittracer.runtime;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;

/** A class-path provider registered by the test resources, to check discovery (it opens no models). */
public class ListingBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "listing-backend";
    }

    @Override
    public String description() {
        return "a backend that opens nothing";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return EnumSet.noneOf(BackendCapability.class);
    }

    @Override
    public Recognition recognize(Path directory) {
        return Recognition.none("listing-backend opens no models");
    }

    @Override
    public TransformerModel create(ModelSource source) {
        throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "listing-backend opens no models.");
    }
}
