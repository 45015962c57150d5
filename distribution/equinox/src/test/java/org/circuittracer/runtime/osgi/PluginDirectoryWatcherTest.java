package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.osgi.fixtures.SecondAttributorProvider;
import org.circuittracer.runtime.osgi.fixtures.ThirdAttributorProvider;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot deployment from a watched plugins directory while the framework runs. */
class PluginDirectoryWatcherTest {

    @TempDir
    Path dir;

    private Path plugins;

    @BeforeEach
    void createPluginsDirectory() throws Exception {
        plugins = Files.createDirectory(dir.resolve("plugins"));
    }

    @Test
    void aJarDroppedInAppearsAndDisappearsWhenDeletedAndCanComeBack() throws Exception {
        try (EquinoxRuntime runtime = start()) {
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).isEmpty();

            Path jar = Files.copy(TestBundles.testPlugin(), plugins.resolve("test-plugin.jar"));
            Duration appeared = Await.until("test-fixture is deployed", () -> has(runtime, "test-fixture"));
            AttributorProvider first = runtime.get(ProviderKind.ATTRIBUTOR, "test-fixture");
            assertThat(runtime.describe()).singleElement().satisfies(
                    info -> assertThat(info.origin()).isEqualTo("bundle " + TestBundles.TEST_PLUGIN_SYMBOLIC_NAME
                            + " " + TestBundles.VERSION));

            Files.delete(jar);
            Duration disappeared = Await.until("test-fixture is removed", () -> !has(runtime, "test-fixture"));

            Files.copy(TestBundles.testPlugin(), jar);
            Await.until("test-fixture is deployed again", () -> has(runtime, "test-fixture"));
            AttributorProvider second = runtime.get(ProviderKind.ATTRIBUTOR, "test-fixture");
            assertThat(second.getClass()).as("a fresh bundle, fresh class loader").isNotSameAs(first.getClass());
            assertThat(second.create(org.circuittracer.spi.attribution.AttributorOptions.none("test-fixture")).requiredCapabilities()).isEmpty();
            assertThat(runtime.problems()).isEmpty();
            System.out.printf("Hot deploy latency: %d ms, removal latency: %d ms (poll interval %d ms)%n",
                    appeared.toMillis(), disappeared.toMillis(), EquinoxSettings.DEFAULT_POLL_INTERVAL.toMillis());
        }
    }

    @Test
    void pluginsPresentAtBootAreRegisteredWhenStartReturns() throws Exception {
        Files.copy(TestBundles.testPlugin(), plugins.resolve("test-plugin.jar"));

        try (EquinoxRuntime runtime = start()) {
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(Provider::name).containsExactly("test-fixture");
        }
    }

    @Test
    void garbageAndPlainJarsAreProblemsThatDoNotStopTheOthers() throws Exception {
        Files.write(plugins.resolve("x.jar"), new byte[] {1, 2, 3, 4, 5});
        TestBundles.plainJar(plugins.resolve("plain.jar"));
        Files.copy(TestBundles.testPlugin(), plugins.resolve("test-plugin.jar"));

        try (EquinoxRuntime runtime = start()) {
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(Provider::name).containsExactly("test-fixture");
            assertThat(runtime.problems()).satisfiesExactlyInAnyOrder(
                    p -> assertThat(p.source()).endsWith("plain.jar").isEqualTo(plugins.resolve("plain.jar").toString()),
                    p -> assertThat(p.source()).isEqualTo(plugins.resolve("x.jar").toString()));
            assertThat(runtime.problems()).anySatisfy(p -> assertThat(p.message()).contains("not an OSGi bundle"));

            // The framework keeps working: another plugin still deploys, and removing the garbage clears its problem.
            TestBundles.bundle("test.second").attributor(SecondAttributorProvider.class)
                    .writeTo(plugins.resolve("second.jar"));
            Await.until("second-fixture is deployed", () -> has(runtime, "second-fixture"));
            Files.delete(plugins.resolve("x.jar"));
            Files.delete(plugins.resolve("plain.jar"));
            Await.until("the problems are cleared", () -> runtime.problems().isEmpty());
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(Provider::name)
                    .containsExactly("second-fixture", "test-fixture");
        }
    }

    @Test
    void anUnresolvedPluginIsAProblemUntilWhatItNeedsArrives() throws Exception {
        TestBundles.bundle("test.needy")
                .header("Import-Package", "org.circuittracer.spi;version=\"[1.0,2)\","
                        + "org.circuittracer.spi.attribution;version=\"[2.0,3)\",org.example.extra")
                .attributor(SecondAttributorProvider.class).writeTo(plugins.resolve("needy.jar"));

        try (EquinoxRuntime runtime = start()) {
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).isEmpty();
            assertThat(runtime.problems()).singleElement().satisfies(p -> {
                assertThat(p.source()).endsWith("needy.jar");
                assertThat(p.message()).contains("org.example.extra");
            });

            TestBundles.bundle("test.exporter").header("Export-Package", "org.example.extra;version=\"1.0.0\"")
                    .writeTo(plugins.resolve("exporter.jar"));
            Await.until("second-fixture is deployed", () -> has(runtime, "second-fixture"));
            assertThat(runtime.problems()).isEmpty();
        }
    }

    @Test
    void aReplacedJarIsUpdatedInPlace() throws Exception {
        Path jar = TestBundles.bundle("test.evolving").attributor(SecondAttributorProvider.class)
                .writeTo(plugins.resolve("evolving.jar"));

        try (EquinoxRuntime runtime = start()) {
            assertThat(runtime.all(ProviderKind.ATTRIBUTOR)).extracting(Provider::name).containsExactly("second-fixture");

            TestBundles.bundle("test.evolving").header("Bundle-Version", "1.1.0")
                    .attributor(ThirdAttributorProvider.class).writeTo(jar);
            Await.until("third-fixture replaces second-fixture",
                    () -> has(runtime, "third-fixture") && !has(runtime, "second-fixture"));
            assertThat(runtime.describe()).singleElement()
                    .satisfies(info -> assertThat(info.origin()).isEqualTo("bundle test.evolving 1.1.0"));
        }
    }

    private EquinoxRuntime start() {
        return EquinoxRuntime.start(EquinoxSettings.of(dir.resolve("storage")).withPluginDirectory(plugins));
    }

    private static boolean has(EquinoxRuntime runtime, String name) {
        return runtime.find(ProviderKind.ATTRIBUTOR, name).isPresent();
    }
}
