package org.circuittracer.backend.onnx;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.AbstractAttributorConformanceTest;

/**
 * The attribution-level kit for {@code exact} on the ONNX exports of every fixture model, with every transcoder set
 * made for it (the same pairings as attribution-core's run of the kit on the djl backend): edges obey the
 * perturbation oracle and completeness whichever backend linearises the model.
 */
class OnnxExactAttributorConformanceTest extends AbstractAttributorConformanceTest {

    @Override
    protected AttributorProvider provider() {
        return new ExactAttributorProvider();
    }

    @Override
    protected List<Setup> setups() {
        return TinyFixtures.PAIRS.stream().map(p -> new Setup(p.dictionary() + " (onnx)",
                TinyOnnxModels.exported(p.model()), TinyFixtures.dictionaryDirectory(p.dictionary()),
                TinyFixtures.prompt(p.model(), 1))).toList();
    }

    @Override
    protected TransformerModel openModel(Path directory) {
        return new OnnxBackendProvider().create(ModelSource.of(directory));
    }

    @Override
    protected SparseDictionary openDictionary(Path directory) {
        return TinyFixtures.openDictionary(directory);
    }
}
