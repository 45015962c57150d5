package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EquinoxLauncherTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void listPrintsTheProvidersOfBootBundlesAndPluginsWithTheirProblems() throws Exception {
        Path plugins = Files.createDirectory(dir.resolve("plugins"));
        Files.write(plugins.resolve("x.jar"), new byte[] {42});

        int status = run("--storage", dir.resolve("storage").toString(), "--bundle",
                TestBundles.testPlugin().toString(), "--plugins", plugins.toString(), "--list");

        assertThat(status).isZero();
        assertThat(err()).isEmpty();
        assertThat(out()).contains("Equinox is running 1 bundle: org.circuittracer.circuit-tracer-test-plugin " + TestBundles.VERSION
                + " (ACTIVE).")
                .contains("KIND", "NAME", "ORIGIN")
                .containsPattern("attributor\\s+test-fixture\\s+bundle org.circuittracer.circuit-tracer-test-plugin "
                        + TestBundles.VERSION.replace(".", "\\.") + "\\s+Test bundle for the plugin runtime")
                .contains("Problems:", "x.jar: cannot install it");
    }

    @Test
    void listWithoutStorageUsesATemporaryDirectory() {
        assertThat(run("--list")).isZero();
        assertThat(out()).contains("Equinox is running 0 bundles.", "No providers found.");
    }

    @Test
    void badArgumentsPrintAUsageErrorWithoutAStackTrace() {
        assertThat(run("--bogus")).isEqualTo(EquinoxLauncher.USAGE_ERROR);
        assertThat(err()).startsWith("error: unknown argument '--bogus'.").contains("Usage: EquinoxLauncher")
                .doesNotContain("\tat ");

        err.reset();
        assertThat(run("--plugins")).isEqualTo(EquinoxLauncher.USAGE_ERROR);
        assertThat(err()).startsWith("error: --plugins needs a value.");

        err.reset();
        assertThat(run("--storage", "a", "--storage", "b")).isEqualTo(EquinoxLauncher.USAGE_ERROR);
        assertThat(err()).startsWith("error: --storage given twice.");
        assertThat(out()).isEmpty();
    }

    @Test
    void aMissingBundleIsAClearError() {
        int status = run("--storage", dir.toString(), "--bundle", dir.resolve("missing.jar").toString(), "--list");

        assertThat(status).isEqualTo(EquinoxLauncher.RUNTIME_ERROR);
        assertThat(err()).startsWith("error: [FILE_NOT_FOUND] The bundle ").contains("missing.jar")
                .doesNotContain("\tat ");
    }

    @Test
    void helpPrintsTheUsage() {
        assertThat(run("--help")).isZero();
        assertThat(out()).startsWith("Usage: EquinoxLauncher");
    }

    private int run(String... args) {
        return EquinoxLauncher.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
