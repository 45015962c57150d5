package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.osgi.fixtures.ContextLoaderProbeProvider;
import org.circuittracer.runtime.osgi.fixtures.DuplicateTestFixtureProvider;
import org.circuittracer.runtime.osgi.fixtures.InvalidNameProvider;
import org.circuittracer.runtime.osgi.fixtures.SecondAttributorProvider;
import org.circuittracer.runtime.osgi.fixtures.ThrowingConstructorProvider;
import org.circuittracer.spi.Provider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken providers are reported and skipped; the bundle's good providers and the other bundles still work, and
 * providers are constructed with their bundle's class loader as context class loader.
 */
class ServiceLoaderRegistrarTest {

    @TempDir
    Path dir;

    @Test
    void brokenProvidersBecomeProblemsAndTheRestRegisters() throws Exception {
        Path mixed = TestBundles.bundle("test.mixed")
                .attributor(InvalidNameProvider.class)
                .attributor(ThrowingConstructorProvider.class)
                .listed("org.example.NoSuchProvider")
                .attributor(SecondAttributorProvider.class)
                .attributor(DuplicateTestFixtureProvider.class)
                .attributor(ContextLoaderProbeProvider.class)
                .writeTo(dir.resolve("mixed.jar"));

        // The test plugin is installed first, so its test-fixture wins over the mixed bundle's.
        try (EquinoxRuntime runtime = EquinoxRuntime.start(EquinoxSettings.of(dir.resolve("storage"))
                .withBundles(List.of(TestBundles.testPlugin(), mixed)))) {

            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(Provider::name)
                    .containsExactly("context-loader-is-bundle", "second-fixture", "test-fixture");
            assertThat(runtime.get(ProviderKind.ATTRIBUTOR, "test-fixture").getClass().getName())
                    .isEqualTo("org.circuittracer.testplugin.TestFixtureAttributorProvider");
            assertThat(runtime.describe()).hasSize(3);

            assertThat(runtime.problems()).hasSize(4).allSatisfy(p -> assertThat(p.source())
                    .isEqualTo("bundle test.mixed 1.0.0"));
            assertThat(runtime.problems()).extracting(PluginProblem::message).satisfiesExactlyInAnyOrder(
                    m -> assertThat(m).contains("invalid name 'Not A Valid Name'"),
                    m -> assertThat(m).contains("constructor of the attributor provider")
                            .contains("constructor failed on purpose"),
                    m -> assertThat(m).contains("org.example.NoSuchProvider").contains("cannot be loaded"),
                    m -> assertThat(m).contains("'test-fixture'").contains(DuplicateTestFixtureProvider.class.getName())
                            .contains("bundle " + TestBundles.TEST_PLUGIN_SYMBOLIC_NAME));
        }
    }
}
