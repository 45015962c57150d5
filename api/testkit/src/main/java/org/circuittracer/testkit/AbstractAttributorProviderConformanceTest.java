package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.junit.jupiter.api.Test;

/** Provider-level rules for attributors; {@link AbstractAttributorConformanceTest} checks the graphs they compute. */
public abstract class AbstractAttributorProviderConformanceTest
        extends AbstractProviderConformanceTest<AttributorProvider> {

    @Override
    protected final Class<AttributorProvider> providerType() {
        return AttributorProvider.class;
    }

    @Test
    void createsAnAttributorWithDefaultSettings() {
        assertThat(provider().create(Map.of())).isNotNull();
        assertThat(provider().create(Map.of()).requiredCapabilities()).isNotNull();
    }

    @Test
    void rejectsUnknownSettingsNamingThem() {
        assertThatThrownBy(() -> provider().create(Map.of("no-such-setting", "1")))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("no-such-setting");
    }
}
