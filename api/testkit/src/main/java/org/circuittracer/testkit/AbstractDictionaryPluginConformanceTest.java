package org.circuittracer.testkit;

import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.junit.jupiter.api.Nested;

/**
 * Both dictionary kits in one test class: the dictionary rules of {@link AbstractDictionaryConformanceTest} on
 * {@link #directories()}, and the provider rules of {@link AbstractDictionaryFormatConformanceTest} (name,
 * description, registration, statelessness, empty and missing directories) on the same {@link #provider()}, as the
 * nested class {@link ProviderRules}. A format plugin extends this once:
 *
 * <pre>{@code
 * class MyFormatConformanceTest extends AbstractDictionaryPluginConformanceTest {
 *     protected DictionaryFormatProvider provider() { return new MyFormatProvider(); }
 *     protected List<Path> directories() { return List.of(...); }
 * }
 * }</pre>
 */
public abstract class AbstractDictionaryPluginConformanceTest extends AbstractDictionaryConformanceTest {

    /** The provider rules, on the enclosing test's provider. */
    @Nested
    class ProviderRules extends AbstractDictionaryFormatConformanceTest {
        @Override
        protected DictionaryFormatProvider provider() {
            return AbstractDictionaryPluginConformanceTest.this.provider();
        }
    }
}
