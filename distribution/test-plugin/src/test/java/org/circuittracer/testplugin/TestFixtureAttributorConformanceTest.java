package org.circuittracer.testplugin;

import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.testkit.AbstractAttributorProviderConformanceTest;

/** The test plugin is also the smallest example of a plugin extending its conformance kit. */
class TestFixtureAttributorConformanceTest extends AbstractAttributorProviderConformanceTest {

    @Override
    protected AttributorProvider provider() {
        return new TestFixtureAttributorProvider();
    }
}
