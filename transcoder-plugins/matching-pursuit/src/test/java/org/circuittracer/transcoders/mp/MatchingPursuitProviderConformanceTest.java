package org.circuittracer.transcoders.mp;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class MatchingPursuitProviderConformanceTest extends AbstractDictionaryFormatConformanceTest {

    @Override
    protected DictionaryFormatProvider provider() {
        return new MatchingPursuitProvider();
    }
}
