package org.circuittracer.attribution;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.AbstractAttributorConformanceTest;

/** The attribution-level kit for {@code exact} on every fixture model with every transcoder set made for it. */
class ExactAttributorConformanceTest extends AbstractAttributorConformanceTest {

    @Override
    protected AttributorProvider provider() {
        return new ExactAttributorProvider();
    }

    @Override
    protected List<Setup> setups() {
        return TinyFixtures.PAIRS.stream().map(p -> new Setup(p.dictionary(), TinyFixtures.modelDirectory(p.model()),
                TinyFixtures.dictionaryDirectory(p.dictionary()), TinyFixtures.prompt(p.model(), 1))).toList();
    }

    @Override
    protected TransformerModel openModel(Path directory) {
        return TinyFixtures.openModel(directory);
    }

    @Override
    protected SparseDictionary openDictionary(Path directory) {
        return TinyFixtures.openDictionary(directory);
    }
}
