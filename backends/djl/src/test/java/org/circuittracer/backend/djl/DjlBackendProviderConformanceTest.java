package org.circuittracer.backend.djl;

import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.testkit.AbstractBackendProviderConformanceTest;

class DjlBackendProviderConformanceTest extends AbstractBackendProviderConformanceTest {

    @Override
    protected BackendProvider provider() {
        return new DjlBackendProvider();
    }
}
