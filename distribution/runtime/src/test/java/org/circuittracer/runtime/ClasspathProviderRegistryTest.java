package org.circuittracer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClasspathProviderRegistryTest {

    private static final String ATTRIBUTOR_SERVICE = AttributorProvider.class.getName();

    @TempDir
    Path temp;

    @Test
    void findsClassPathProvidersByKindAndName() {
        try (var registry = ClasspathProviderRegistry.fromClasspath()) {
            assertThat(registry.all(ProviderKind.BACKEND)).extracting(p -> p.name()).containsExactly("listing-backend");
            assertThat(registry.get(ProviderKind.BACKEND, "listing-backend")).isInstanceOf(ListingBackendProvider.class);
            assertThat(registry.find(ProviderKind.ATTRIBUTOR, "listing-backend")).isEmpty();
            assertThat(registry.describe()).containsExactly(new ProviderInfo("backend", "listing-backend",
                    "a backend that opens nothing", "class path", ListingBackendProvider.class.getName()));
        }
    }

    @Test
    void aMissListsWhatExists() {
        try (var registry = ClasspathProviderRegistry.fromClasspath()) {
            assertThatThrownBy(() -> registry.get(ProviderKind.BACKEND, "onnx"))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.PROVIDER_NOT_FOUND))
                    .hasMessageContaining("No backend named 'onnx' (available: listing-backend)")
                    .hasMessageContaining("plugins directory");
            assertThatThrownBy(() -> registry.get(ProviderKind.ATTRIBUTOR, "exact"))
                    .hasMessageContaining("No attributor named 'exact' (none is installed)");
        }
    }

    @Test
    void loadsPluginJarsFromTheDirectoryInTheirOwnClassLoaders() throws IOException {
        Path plugins = Files.createDirectories(temp.resolve("plugins"));
        PluginJars.build(plugins, "alpha.jar", Map.of("org.example.alpha.AlphaProvider",
                PluginJars.attributorSource("org.example.alpha.AlphaProvider", "alpha")),
                Map.of(ATTRIBUTOR_SERVICE, List.of("org.example.alpha.AlphaProvider")));
        PluginJars.build(plugins, "beta.jar", Map.of("org.example.beta.BetaProvider",
                PluginJars.attributorSource("org.example.beta.BetaProvider", "beta")),
                Map.of(ATTRIBUTOR_SERVICE, List.of("org.example.beta.BetaProvider")));
        Files.writeString(plugins.resolve("README.txt"), "not a jar, ignored");

        try (var registry = ClasspathProviderRegistry.withPluginDirectory(plugins)) {
            List<AttributorProvider> attributors = registry.all(ProviderKind.ATTRIBUTOR);
            assertThat(attributors).extracting(p -> p.name()).containsExactly("alpha", "beta");
            assertThat(attributors.get(0).getClass().getClassLoader())
                    .isNotSameAs(attributors.get(1).getClass().getClassLoader())
                    .isNotSameAs(getClass().getClassLoader());
            // the SPI is shared with the host, so providers are usable as typed objects
            assertThat(attributors.get(0)).isInstanceOf(AttributorProvider.class);
            assertThat(registry.describe()).filteredOn(i -> i.name().equals("beta")).singleElement()
                    .satisfies(i -> assertThat(i.origin()).isEqualTo("plugins/beta.jar"));
            // class-path providers are still there, and not reported twice by each plugin loader
            assertThat(registry.all(ProviderKind.BACKEND)).hasSize(1);
        }
    }

    @Test
    void aMissingPluginDirectoryIsEmpty() {
        try (var registry = ClasspathProviderRegistry.withPluginDirectory(temp.resolve("absent"))) {
            assertThat(registry.all(ProviderKind.ATTRIBUTOR)).isEmpty();
        }
    }

    @Test
    void duplicateNamesAreRejectedNamingBothOrigins() throws IOException {
        Path plugins = Files.createDirectories(temp.resolve("plugins"));
        for (String jar : List.of("one.jar", "two.jar")) {
            String cls = "org.example." + jar.substring(0, 3) + ".Dup";
            PluginJars.build(plugins, jar, Map.of(cls, PluginJars.attributorSource(cls, "same")),
                    Map.of(ATTRIBUTOR_SERVICE, List.of(cls)));
        }
        assertThatThrownBy(() -> ClasspathProviderRegistry.withPluginDirectory(plugins))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_PROVIDER))
                .hasMessageContaining("Two attributor providers are named 'same'")
                .hasMessageContaining("plugins/one.jar").hasMessageContaining("plugins/two.jar");
    }

    @Test
    void invalidNamesAndBrokenServiceFilesAreClearPluginErrors() throws IOException {
        Path badName = Files.createDirectories(temp.resolve("bad-name"));
        PluginJars.build(badName, "shouty.jar", Map.of("org.example.Shouty",
                PluginJars.attributorSource("org.example.Shouty", "SHOUTY")),
                Map.of(ATTRIBUTOR_SERVICE, List.of("org.example.Shouty")));
        assertThatThrownBy(() -> ClasspathProviderRegistry.withPluginDirectory(badName))
                .hasMessageContaining("invalid name 'SHOUTY'");

        Path broken = Files.createDirectories(temp.resolve("broken"));
        PluginJars.build(broken, "broken.jar", Map.of(), Map.of(ATTRIBUTOR_SERVICE, List.of("org.example.Missing")));
        assertThatThrownBy(() -> ClasspathProviderRegistry.withPluginDirectory(broken))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_PROVIDER))
                .hasMessageContaining("from broken/broken.jar could not be loaded")
                .hasMessageContaining("org.example.Missing");
    }

    @Test
    void listingIsATable() {
        String table = ProviderListing.format(List.of(
                new ProviderInfo("backend", "djl", "DJL", "class path", "x.Djl"),
                new ProviderInfo("attributor", "exact", "exact direct effects", "plugins/core.jar", "x.Exact")));
        assertThat(table.lines()).hasSize(3);
        assertThat(table.lines().findFirst().orElseThrow()).startsWith("KIND").contains("NAME", "ORIGIN", "DESCRIPTION");
        assertThat(table).contains("attributor  exact  plugins/core.jar  exact direct effects");
        assertThat(ProviderListing.format(List.of())).contains("No providers found");
    }
}
