package org.circuittracer.spi;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import org.circuittracer.spi.model.BackendCapability;
import org.junit.jupiter.api.Test;

class CapabilityTest {

    @Test
    void presentCapabilityPasses() {
        assertThatCode(() -> Capability.require("backend", "djl", EnumSet.of(BackendCapability.VJP),
                BackendCapability.VJP, "attribution")).doesNotThrowAnyException();
    }

    @Test
    void missingCapabilityFailsWithTheStandardMessage() {
        assertThatThrownBy(() -> Capability.require("backend", "onnx",
                EnumSet.of(BackendCapability.KV_CACHE, BackendCapability.HOOKS), BackendCapability.VJP, "attribution"))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    org.assertj.core.api.Assertions.assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY);
                    org.assertj.core.api.Assertions.assertThat(e.getMessage())
                            .startsWith("backend 'onnx' does not support VJP")
                            .contains("needed for attribution", "It declares: HOOKS, KV_CACHE", "circuit-tracer plugins");
                    org.assertj.core.api.Assertions.assertThat(e.describe()).startsWith("[MISSING_CAPABILITY] ");
                });
    }

    @Test
    void emptyDeclarationSaysNothing() {
        assertThatThrownBy(() -> Capability.require("backend", "x", EnumSet.noneOf(BackendCapability.class),
                BackendCapability.CUDA, "GPU runs")).hasMessageContaining("It declares: nothing");
    }
}
