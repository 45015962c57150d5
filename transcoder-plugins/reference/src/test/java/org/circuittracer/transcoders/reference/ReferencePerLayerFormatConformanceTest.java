package org.circuittracer.transcoders.reference;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class ReferencePerLayerFormatConformanceTest extends AbstractDictionaryFormatConformanceTest {

    @Override
    protected DictionaryFormatProvider provider() {
        return new ReferencePerLayerProvider();
    }
}
