package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCategory;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider-level rules for backends; {@link AbstractBackendConformanceTest} checks the models (hooks, VJP, generation).
 * The rules that open a model use {@link #openableModel()}: by default the first shared fixture model the provider
 * claims; they are skipped when there is none.
 */
public abstract class AbstractBackendProviderConformanceTest extends AbstractProviderConformanceTest<BackendProvider> {

    @TempDir
    protected Path scratch;

    @Override
    protected final Class<BackendProvider> providerType() {
        return BackendProvider.class;
    }

    /** A model directory the provider opens; by default the first of the shared tiny fixture models it claims. */
    protected Optional<Path> openableModel() {
        Optional<Path> fixtures = SharedFixtures.find();
        if (fixtures.isEmpty() || !Files.isDirectory(fixtures.get().resolve("tiny-models"))) {
            return Optional.empty();
        }
        try (Stream<Path> models = Files.list(fixtures.get().resolve("tiny-models"))) {
            return models.filter(Files::isDirectory).sorted().filter(d -> provider().recognize(d).matches()).findFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected List<Object> declaration(BackendProvider provider) {
        List<Object> declared = new ArrayList<>(super.declaration(provider));
        declared.add(Set.copyOf(provider.capabilities()));
        return declared;
    }

    @Override
    protected void exercise(BackendProvider provider) {
        provider.recognize(scratch);
        try {
            provider.create(ModelSource.of(scratch.resolve("absent"))).close();
        } catch (CircuitTracerException expected) {
            // what a missing directory gives; only the provider's state matters here
        }
    }

    @Test
    void declaresItsCapabilitiesOnceAndForAll() {
        BackendProvider provider = provider();
        Set<BackendCapability> declared = provider.capabilities();
        assertThat(declared).as("capabilities of '%s'", provider.name()).isNotNull().doesNotContainNull();
        Set<BackendCapability> copy = Set.copyOf(declared);
        try {
            declared.clear(); // a caller that changes what it was given must not change the provider
        } catch (UnsupportedOperationException expected) {
            // an unmodifiable set is the usual answer
        }
        assertThat(provider.capabilities()).as("capabilities of '%s' after a caller cleared the returned set",
                provider.name()).isEqualTo(copy);
    }

    @Test
    void doesNotClaimAnEmptyOrMissingDirectory() {
        assertThat(provider().recognize(scratch).matches()).isFalse();
        assertThat(provider().recognize(scratch.resolve("absent")).matches()).isFalse();
    }

    @Test
    void openingAMissingDirectoryIsAClearUserError() {
        assertThatThrownBy(() -> provider().create(ModelSource.of(scratch.resolve("absent"))))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.category()).isEqualTo(ErrorCategory.USER_ERROR))
                .hasMessageContaining("absent");
    }

    @Test
    void modelsDoWhatTheProviderDeclaresAndNoMore() {
        Path directory = requireOpenableModel();
        BackendProvider provider = provider();
        try (TransformerModel model = provider.create(ModelSource.of(directory))) {
            assertThat(model.backendName()).as("backendName() of a model of '%s'", provider.name())
                    .isEqualTo(provider.name());
            assertThat(provider.capabilities()).as("capabilities of '%s' cover its model's", provider.name())
                    .containsAll(model.capabilities());
            if (!model.capabilities().contains(BackendCapability.UNEMBEDDING)) {
                try (NDManager manager = NDManager.newBaseManager()) {
                    assertThatThrownBy(() -> model.unembeddingVectors(manager, new int[] {0}))
                            .isInstanceOfSatisfying(CircuitTracerException.class, e -> assertThat(e.errorCode())
                                    .isEqualTo(StandardErrorCode.MISSING_CAPABILITY));
                }
            }
        }
    }

    @Test
    void twoOpensOfOneDirectoryAreEqualAndIndependent() {
        Path directory = requireOpenableModel();
        BackendProvider provider = provider(); // one instance, as a runtime keeps it
        TokenSequence prompt = new TokenSequence(new int[] {0, 1, 2});
        try (NDManager manager = NDManager.newBaseManager();
             TransformerModel second = provider.create(ModelSource.of(directory))) {
            float[] before;
            try (TransformerModel first = provider.create(ModelSource.of(directory))) {
                assertThat(first).as("two opens of %s", directory).isNotSameAs(second);
                assertThat(second.config()).isEqualTo(first.config());
                assertThat(second.capabilities()).isEqualTo(first.capabilities());
                assertThat(second.sites()).isEqualTo(first.sites());
                before = first.forward(manager, prompt, List.of()).logits().toFloatArray();
                assertThat(second.forward(manager, prompt, List.of()).logits().toFloatArray())
                        .as("logits of the second open").containsExactly(before);
            }
            assertThat(second.forward(manager, prompt, List.of()).logits().toFloatArray())
                    .as("logits of the second open after the first was closed").containsExactly(before);
        }
    }

    private Path requireOpenableModel() {
        Optional<Path> directory = openableModel();
        assumeTrue(directory.isPresent(), "no model that '" + provider().name() + "' opens (override openableModel)");
        assertThat(provider().recognize(directory.get()).matches()).as("'%s' claims %s", provider().name(), directory.get())
                .isTrue();
        return directory.get();
    }
}
