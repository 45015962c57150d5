package org.circuittracer.transcoders.nativeformat;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryFormatConformanceTest;

class NativeFormatConformanceTest extends AbstractDictionaryFormatConformanceTest {

    @Override
    protected DictionaryFormatProvider provider() {
        return new NativeFormatProvider();
    }
}
