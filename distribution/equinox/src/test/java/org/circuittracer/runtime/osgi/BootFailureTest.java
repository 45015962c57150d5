package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A boot bundle that cannot be used stops the start with an error naming it. */
class BootFailureTest {

    @TempDir
    Path dir;

    @Test
    void aBootBundleWithAnUnresolvedImportNamesTheJarAndTheRequirement() throws Exception {
        Path jar = TestBundles.bundle("test.unresolved")
                .header("Import-Package", "org.example.missing").writeTo(dir.resolve("unresolved.jar"));

        assertThatThrownBy(() -> start(jar))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_PROVIDER))
                .hasMessageContaining("unresolved.jar")
                .hasMessageContaining("org.example.missing")
                .hasMessageContaining("--bundle");
    }

    @Test
    void aMissingBootBundleIsFileNotFound() {
        assertThatThrownBy(() -> start(dir.resolve("nowhere.jar")))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND))
                .hasMessageContaining("nowhere.jar");
    }

    @Test
    void aPlainJarIsNotAcceptedAsABootBundle() throws Exception {
        Path jar = TestBundles.plainJar(dir.resolve("plain.jar"));

        assertThatThrownBy(() -> start(jar))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_PROVIDER))
                .hasMessageContaining("plain.jar")
                .hasMessageContaining("not an OSGi bundle");
    }

    private void start(Path jar) {
        EquinoxRuntime.start(EquinoxSettings.of(dir.resolve("storage")).withBundles(List.of(jar))).close();
    }
}
