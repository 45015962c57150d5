package org.circuittracer.backend.onnx;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.testkit.AbstractBackendConformanceTest;

/** The model-level kit on the four tiny fixture architectures, exported to ONNX. */
class OnnxBackendConformanceTest extends AbstractBackendConformanceTest {

    @Override
    protected BackendProvider provider() {
        return new OnnxBackendProvider();
    }

    @Override
    protected List<Path> models() {
        return TinyOnnxModels.ARCHITECTURES.stream().map(TinyOnnxModels::exported).toList();
    }
}
