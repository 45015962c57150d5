package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.lang.reflect.Modifier;
import java.util.List;
import java.util.ServiceLoader;
import org.circuittracer.spi.Provider;
import org.junit.jupiter.api.Test;

/**
 * Rules every provider follows, whatever its extension point.
 *
 * @param <P> the provider interface
 */
public abstract class AbstractProviderConformanceTest<P extends Provider> {

    /** A fresh instance of the provider under test. */
    protected abstract P provider();

    /** The extension point's interface, e.g. {@code BackendProvider.class}. */
    protected abstract Class<P> providerType();

    @Test
    void nameIsValid() {
        String name = provider().name();
        assertThatCode(() -> Provider.requireValidName(name, provider().getClass())).doesNotThrowAnyException();
    }

    @Test
    void descriptionIsOneNonBlankLine() {
        assertThat(provider().description()).as("description of '%s'", provider().name())
                .isNotBlank().doesNotContain("\n");
    }

    @Test
    void isRegisteredForServiceLoader() {
        Class<?> implementation = provider().getClass();
        var registered = ServiceLoader.load(providerType(), implementation.getClassLoader()).stream()
                .map(ServiceLoader.Provider::type).toList();
        assertThat(registered).as("META-INF/services/%s lists %s", providerType().getName(), implementation.getName())
                .contains((Class) implementation);
    }

    @Test
    void hasAPublicNoArgumentConstructorAndIsStateless() throws ReflectiveOperationException {
        P first = provider();
        Class<?> implementation = first.getClass();
        assertThat(Modifier.isPublic(implementation.getModifiers())).as("public class").isTrue();
        List<Object> before = declaration(first);
        P second = providerType().cast(implementation.getConstructor().newInstance());
        assertThat(declaration(second)).as("what a second instance of '%s' declares", first.name())
                .isEqualTo(before);
        exercise(second);
        assertThat(declaration(first)).as("what '%s' declares after another instance was used", first.name())
                .isEqualTo(before);
        assertThat(declaration(second)).as("what '%s' declares after it was used", first.name()).isEqualTo(before);
    }

    /**
     * What a provider declares about itself, which must not depend on the instance or on its use: by default its name
     * and description; kits for an extension point add what that point declares (capabilities, settings).
     */
    protected List<Object> declaration(P provider) {
        return List.of(provider.name(), provider.description());
    }

    /** Uses a provider the way a runtime does, without files (kits add the extension point's calls). */
    protected void exercise(P provider) {
        provider.name();
    }
}
