package org.circuittracer.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

/** Provider-level rules for attributors; {@link AbstractAttributorConformanceTest} checks the graphs they compute. */
public abstract class AbstractAttributorProviderConformanceTest
        extends AbstractProviderConformanceTest<AttributorProvider> {

    @Override
    protected final Class<AttributorProvider> providerType() {
        return AttributorProvider.class;
    }

    @Override
    protected List<Object> declaration(AttributorProvider provider) {
        List<Object> declared = new ArrayList<>(super.declaration(provider));
        declared.add(Set.copyOf(provider.create(AttributorOptions.none(provider.name())).requiredCapabilities()));
        return declared;
    }

    @Override
    protected void exercise(AttributorProvider provider) {
        provider.create(AttributorOptions.none(provider.name()));
    }

    @Test
    void createsAnAttributorWithDefaultSettings() {
        Attributor attributor = provider().create(AttributorOptions.none(provider().name()));
        assertThat(attributor).as("create(no settings) of '%s'", provider().name()).isNotNull();
        assertThat(attributor.requiredCapabilities()).as("required capabilities of '%s'", provider().name())
                .isNotNull().doesNotContainNull()
                .isEqualTo(provider().create(AttributorOptions.none(provider().name())).requiredCapabilities());
    }

    @Test
    void rejectsUnknownSettingsNamingThem() {
        assertThatThrownBy(() -> provider().create(new AttributorOptions(provider().name(), Map.of("no-such-setting", "1"))))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("no-such-setting");
        assertThatThrownBy(() -> provider().create(new AttributorOptions(provider().name(),
                Map.of("no-such-setting", "1", "nor-this-one", "2"))))
                .as("every unknown setting is named, so that one run shows all typos")
                .isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("no-such-setting").hasMessageContaining("nor-this-one");
    }

    /**
     * An attributor refuses a model that lacks a capability it requires with the standard MISSING_CAPABILITY error,
     * before it touches the model or the dictionary (the stand-ins here fail any other call).
     */
    @Test
    void refusesAModelWithoutItsRequiredCapabilitiesBeforeAnyWork() {
        Attributor attributor = provider().create(AttributorOptions.none(provider().name()));
        assumeFalse(attributor.requiredCapabilities().isEmpty(), "'" + provider().name() + "' requires nothing");
        AttributionRequest request = new AttributionRequest(standIn(TransformerModel.class),
                standIn(SparseDictionary.class), new TokenSequence(new int[] {0, 1}), AttributionTargets.Salient.defaults(),
                10, 4, 1);
        assertThatThrownBy(() -> attributor.attribute(request, AttributionListener.NONE))
                .as("'%s' on a model declaring no capabilities", provider().name())
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY))
                .hasMessageContaining("does not support");
    }

    /**
     * A model (or dictionary) that declares no capabilities and answers only what a capability check reads: its
     * backend name, capabilities and configuration. Any other call fails the test.
     */
    private static <T> T standIn(Class<T> type) {
        ModelConfig config = new ModelConfig("capability-less", "LlamaForCausalLM", 2, 8, 2, 2, 4, 16, 16, 32);
        return type.cast(Proxy.newProxyInstance(AbstractAttributorProviderConformanceTest.class.getClassLoader(),
                new Class<?>[] {type}, (proxy, method, args) -> switch (method.getName()) {
                    case "backendName", "name", "toString" -> "capability-less";
                    case "capabilities" -> Set.of();
                    case "config" -> config;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "close" -> null;
                    default -> throw new AssertionError("The attributor called " + type.getSimpleName() + "."
                            + method.getName() + " before checking the model's capabilities.");
                }));
    }
}
