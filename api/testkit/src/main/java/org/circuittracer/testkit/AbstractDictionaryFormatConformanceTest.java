package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provider-level rules for dictionary formats; {@link AbstractDictionaryConformanceTest} checks the dictionaries. */
public abstract class AbstractDictionaryFormatConformanceTest
        extends AbstractProviderConformanceTest<DictionaryFormatProvider> {

    @TempDir
    protected Path scratch;

    @Override
    protected final Class<DictionaryFormatProvider> providerType() {
        return DictionaryFormatProvider.class;
    }

    @Override
    protected void exercise(DictionaryFormatProvider provider) {
        provider.recognize(scratch).matches();
        try {
            provider.create(DictionarySource.of(scratch.resolve("absent"))).close();
        } catch (CircuitTracerException expected) {
            // what a missing directory gives; only the provider's state matters here
        }
    }

    @Test
    void doesNotRecognizeAnEmptyOrMissingDirectory() {
        assertThat(provider().recognize(scratch).matches()).isFalse();
        assertThat(provider().recognize(scratch.resolve("absent")).matches()).isFalse();
    }

    @Test
    void readingAMissingDirectoryIsAClearUserError() {
        assertThatThrownBy(() -> provider().create(DictionarySource.of(scratch.resolve("absent"))))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.category()).isEqualTo(ErrorCategory.USER_ERROR))
                .hasMessageContaining("absent");
    }
}
