package org.circuittracer.transcoders.gemmascope;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class GemmaScope2FormatConformanceTest extends AbstractDictionaryFormatConformanceTest {
    @Override
    protected DictionaryFormatProvider provider() {
        return new GemmaScope2Provider();
    }
}
