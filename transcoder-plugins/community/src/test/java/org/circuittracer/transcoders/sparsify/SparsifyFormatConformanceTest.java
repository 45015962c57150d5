package org.circuittracer.transcoders.sparsify;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class SparsifyFormatConformanceTest extends AbstractDictionaryFormatConformanceTest {

    @Override
    protected DictionaryFormatProvider provider() {
        return new SparsifyProvider();
    }
}
