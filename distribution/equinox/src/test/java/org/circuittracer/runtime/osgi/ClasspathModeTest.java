package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.runtime.ClasspathProviderRegistry;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same test-plugin jar is also a plain ServiceLoader plugin for the class path runtime. */
class ClasspathModeTest {

    @TempDir
    Path plugins;

    @Test
    void theClasspathRuntimeFindsTheBundlesProviderInAPluginsDirectory() throws Exception {
        Files.copy(TestBundles.testPlugin(), plugins.resolve("circuit-tracer-test-plugin.jar"));

        try (ClasspathProviderRegistry registry = ClasspathProviderRegistry.withPluginDirectory(plugins)) {
            AttributorProvider provider = registry.get(ProviderKind.ATTRIBUTOR, "test-fixture");

            assertThat(provider.getClass().getName())
                    .isEqualTo("org.circuittracer.testplugin.TestFixtureAttributorProvider");
            assertThat(provider.create(AttributorOptions.none(provider.name())).requiredCapabilities()).isEmpty();
            assertThat(registry.describe()).anySatisfy(info -> {
                assertThat(info.name()).isEqualTo("test-fixture");
                assertThat(info.origin()).endsWith("circuit-tracer-test-plugin.jar");
            });
        }
    }
}
