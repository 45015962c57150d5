package org.circuittracer.backend.onnx;

import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.testkit.AbstractBackendProviderConformanceTest;

class OnnxBackendProviderConformanceTest extends AbstractBackendProviderConformanceTest {

    @Override
    protected BackendProvider provider() {
        return new OnnxBackendProvider();
    }
}
