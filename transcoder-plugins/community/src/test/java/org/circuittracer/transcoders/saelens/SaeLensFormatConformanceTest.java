package org.circuittracer.transcoders.saelens;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class SaeLensFormatConformanceTest extends AbstractDictionaryFormatConformanceTest {

    @Override
    protected DictionaryFormatProvider provider() {
        return new SaeLensProvider();
    }
}
