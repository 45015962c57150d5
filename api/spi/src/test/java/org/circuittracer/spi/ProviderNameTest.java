package org.circuittracer.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProviderNameTest {

    @ParameterizedTest
    @ValueSource(strings = {"djl", "onnx", "exact", "plt-safetensors", "gemma-scope-2", "a1"})
    void acceptsLowercaseHyphenatedNames(String name) {
        assertThat(Provider.requireValidName(name, Object.class)).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "DJL", "1djl", "-djl", "djl-", "dj--l", "dj l", "dj_l", "djl.2",
            "a-very-long-provider-name-that-goes-on-and-on"})
    void rejectsEverythingElseWithAFixHint(String name) {
        assertThatThrownBy(() -> Provider.requireValidName(name, String.class))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_PROVIDER);
                    assertThat(e.category()).isEqualTo(ErrorCategory.PLUGIN_ERROR);
                    assertThat(e.getMessage()).contains("java.lang.String", "'" + name + "'", "lowercase");
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"x"})
    void rejectsNull(String ignored) {
        assertThatThrownBy(() -> Provider.requireValidName(null, Object.class))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("'null'");
    }
}
