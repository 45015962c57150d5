package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.lang.reflect.Modifier;
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
        Class<?> implementation = provider().getClass();
        assertThat(Modifier.isPublic(implementation.getModifiers())).as("public class").isTrue();
        Object second = implementation.getConstructor().newInstance();
        assertThat(((Provider) second).name()).isEqualTo(provider().name());
    }
}
