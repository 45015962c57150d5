package org.circuittracer.attribution;

import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.testkit.AbstractAttributorProviderConformanceTest;

class ExactAttributorProviderConformanceTest extends AbstractAttributorProviderConformanceTest {

    @Override
    protected AttributorProvider provider() {
        return new ExactAttributorProvider();
    }
}
