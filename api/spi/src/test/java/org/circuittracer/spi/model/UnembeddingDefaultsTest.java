package org.circuittracer.spi.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;
import org.junit.jupiter.api.Test;

class UnembeddingDefaultsTest {

    @Test
    void withoutTheCapabilityTheStandardMissingCapabilityError() {
        TransformerModel model = new Bare(Set.of(BackendCapability.VJP));
        assertThatThrownBy(() -> model.unembeddingVectors(null, new int[] {1}))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY))
                .hasMessageStartingWith("backend 'bare' does not support UNEMBEDDING");
        assertThatThrownBy(() -> model.meanUnembeddingVector(null))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY));
    }

    @Test
    void declaredButNotImplementedIsThePluginsFault() {
        TransformerModel model = new Bare(Set.of(BackendCapability.UNEMBEDDING));
        assertThatThrownBy(() -> model.unembeddingVectors(null, new int[] {1}))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.PLUGIN_FAILURE))
                .hasMessageContaining("declares UNEMBEDDING");
    }

    private record Bare(Set<BackendCapability> capabilities) implements TransformerModel {
        @Override
        public String backendName() {
            return "bare";
        }

        @Override
        public ModelConfig config() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Tokenizer tokenizer() {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<HookSite> sites() {
            return List.of();
        }

        @Override
        public ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
            throw new UnsupportedOperationException();
        }

        @Override
        public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
            throw new UnsupportedOperationException();
        }

        @Override
        public GenerationResult generate(NDManager manager, GenerationRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }
}
