package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.circuittracer.runtime.ProviderInfo;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One framework booted with the library bundles and the test plugin as boot bundles. */
class EquinoxRuntimeTest {

    @TempDir
    static Path storage;

    private static EquinoxRuntime runtime;
    private static ClassLoader contextLoaderBefore;
    private static ClassLoader contextLoaderAfter;

    @BeforeAll
    static void boot() {
        List<Path> bundles = new ArrayList<>(TestBundles.libraryBundles());
        bundles.add(TestBundles.testPlugin());
        contextLoaderBefore = Thread.currentThread().getContextClassLoader();
        long start = System.nanoTime();
        runtime = EquinoxRuntime.start(EquinoxSettings.of(storage).withBundles(bundles));
        System.out.printf("Equinox boot with %d bundle(s): %d ms%n", bundles.size(),
                (System.nanoTime() - start) / 1_000_000);
        contextLoaderAfter = Thread.currentThread().getContextClassLoader();
    }

    @AfterAll
    static void shutDown() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void theApiLibraryBundlesResolveAgainstTheSystemBundlesSpi() {
        assertThat(TestBundles.libraryBundles()).extracting(p -> p.getFileName().toString())
                .contains("circuit-tracer-safetensors.jar", "circuit-tracer-hub.jar");
        assertThat(runtime.bundles()).contains(
                "org.circuittracer.circuit-tracer-safetensors " + TestBundles.VERSION + " (ACTIVE)",
                "org.circuittracer.circuit-tracer-hub " + TestBundles.VERSION + " (ACTIVE)",
                TestBundles.TEST_PLUGIN_SYMBOLIC_NAME + " " + TestBundles.VERSION + " (ACTIVE)");
    }

    @Test
    void theProductsPluginBundlesRegisterTheirProviders() {
        assertThat(runtime.all(ProviderKind.DICTIONARY_FORMAT)).extracting(p -> p.name()).contains("reference-plt",
                "reference-clt", "matching-pursuit", "circuit-tracer-dictionary", "gemma-scope-npz", "saelens",
                "sparsify");
        assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(p -> p.name()).contains("exact", "test-fixture");
        assertThat(runtime.describe()).filteredOn(i -> i.name().equals("reference-plt")).singleElement()
                .satisfies(i -> assertThat(i.origin()).startsWith("bundle org.circuittracer.circuit-tracer-transcoders-reference"));
    }

    @Test
    void findsTheTestPluginsAttributorAsATypedInstance() {
        List<AttributorProvider> attributors = runtime.all(ProviderKind.ATTRIBUTOR);

        assertThat(attributors).extracting(AttributorProvider::name).containsExactly("exact", "test-fixture");
        AttributorProvider provider = runtime.get(ProviderKind.ATTRIBUTOR, "test-fixture");
        assertThat(provider.create(AttributorOptions.none(provider.name())).requiredCapabilities()).isEmpty();
        assertThatThrownBy(() -> provider.create(AttributorOptions.none(provider.name())).attribute(null, null))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.PLUGIN_FAILURE))
                .hasMessageContaining("computes no graphs");
    }

    @Test
    void theProviderClassComesFromTheBundleNotFromTheClassPath() {
        AttributorProvider provider = runtime.get(ProviderKind.ATTRIBUTOR, "test-fixture");

        assertThat(provider.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
        assertThatThrownBy(() -> Class.forName(provider.getClass().getName()))
                .as("the test plugin must stay off the test class path")
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void describeNamesTheBundle() {
        assertThat(runtime.describe()).contains(new ProviderInfo("attributor", "test-fixture",
                "Test bundle for the plugin runtime; computes no graphs.",
                "bundle " + TestBundles.TEST_PLUGIN_SYMBOLIC_NAME + " " + TestBundles.VERSION,
                "org.circuittracer.testplugin.TestFixtureAttributorProvider"));
        // the DJL backend needs the PyTorch engine on the launcher's class path; this launcher has none
        assertThat(runtime.all(ProviderKind.BACKEND)).isEmpty();
    }

    @Test
    void anUnknownNameIsTheStandardNotFoundError() {
        assertThatThrownBy(() -> runtime.get(ProviderKind.ATTRIBUTOR, "nope"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.PROVIDER_NOT_FOUND))
                .hasMessageContaining("'nope'")
                .hasMessageContaining("available: exact, test-fixture");
    }

    @Test
    void bootReportsNoProblemsAndLeavesTheContextClassLoaderAlone() {
        assertThat(runtime.problems()).isEmpty();
        assertThat(contextLoaderAfter).isSameAs(contextLoaderBefore);
    }
}
