package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provider-level rules for backends; {@link AbstractBackendConformanceTest} checks the models (hooks, VJP, generation). */
public abstract class AbstractBackendProviderConformanceTest extends AbstractProviderConformanceTest<BackendProvider> {

    @TempDir
    protected Path scratch;

    @Override
    protected final Class<BackendProvider> providerType() {
        return BackendProvider.class;
    }

    @Test
    void declaresItsCapabilities() {
        assertThat(provider().capabilities()).isNotNull();
    }

    @Test
    void doesNotClaimAnEmptyOrMissingDirectory() {
        assertThat(provider().canOpen(scratch)).isFalse();
        assertThat(provider().canOpen(scratch.resolve("absent"))).isFalse();
    }

    @Test
    void openingAMissingDirectoryIsAClearUserError() {
        assertThatThrownBy(() -> provider().create(ModelSource.of(scratch.resolve("absent"))))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.category()).isEqualTo(ErrorCategory.USER_ERROR))
                .hasMessageContaining("absent");
    }
}
