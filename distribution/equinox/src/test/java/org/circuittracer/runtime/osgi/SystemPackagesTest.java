package org.circuittracer.runtime.osgi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemPackagesTest {

    @Test
    void theSpiPackagesAreExactlyThoseTheSpiBundleExports() throws Exception {
        String exports = null;
        for (URL url : Collections.list(getClass().getClassLoader().getResources("META-INF/MANIFEST.MF"))) {
            try (InputStream in = url.openStream()) {
                var attributes = new Manifest(in).getMainAttributes();
                if ("org.circuittracer.circuit-tracer-spi".equals(attributes.getValue("Bundle-SymbolicName"))) {
                    exports = attributes.getValue("Export-Package");
                }
            }
        }
        assertThat(exports).as("the SPI jar's manifest").isNotNull();

        assertThat(SystemPackages.spiPackages()).containsOnlyKeys(packageNames(exports))
                .containsKeys("org.circuittracer.spi", "org.circuittracer.spi.model", "org.circuittracer.spi.dictionary",
                        "org.circuittracer.spi.attribution", "org.circuittracer.spi.site", "org.circuittracer.spi.graph");
        for (String clause : clauses(exports)) {
            String pkg = clause.split(";")[0].trim();
            String version = SystemPackages.spiPackages().get(pkg);
            assertThat(clause).contains("version=\"" + version + "\"");
            assertThat(SystemPackages.extra()).contains(pkg + ";version=\"" + version + "\"");
        }
    }

    @Test
    void exportClausesAreSplitOutsideQuotes() {
        assertThat(SystemPackages.exportedVersions("a.b;uses:=\"x.y,z\";version=\"1.1.0\",c;version=\"2.0.0\",d"))
                .containsExactly(java.util.Map.entry("a.b", "1.1.0"), java.util.Map.entry("c", "2.0.0"),
                        java.util.Map.entry("d", "0.0.0"));
    }

    @Test
    void everyDjlApiPackageIsExportedAtDjlsVersion() {
        assertThat(SystemPackages.djlVersion()).isEqualTo("0.36.0");
        assertThat(SystemPackages.djlPackages()).contains("ai.djl", "ai.djl.engine", "ai.djl.ndarray",
                "ai.djl.ndarray.types", "ai.djl.ndarray.index", "ai.djl.util", "ai.djl.training")
                .allSatisfy(p -> assertThat(p).startsWith("ai.djl")).hasSizeGreaterThan(40);
        assertThat(SystemPackages.extra()).contains("ai.djl.ndarray;version=\"0.36.0\"");
    }

    @Test
    void onnxRuntimePackagesAreReadFromTheJarThatNamesItsAutomaticModule(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("onnxruntime-1.29.0.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Automatic-Module-Name", SystemPackages.ONNX_RUNTIME_MODULE);
        manifest.getMainAttributes().putValue("Implementation-Version", "1.29.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String entry : List.of("ai/onnxruntime/OrtSession.class", "ai/onnxruntime/providers/OrtCUDA.class",
                    "ai/onnxruntime/native/linux-x64/libonnxruntime.so", "other/Thing.class")) {
                out.putNextEntry(new JarEntry(entry));
                out.closeEntry();
            }
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            assertThat(SystemPackages.onnxRuntimePackages(loader)).containsExactly(
                    java.util.Map.entry("ai.onnxruntime", "1.29.0"),
                    java.util.Map.entry("ai.onnxruntime.providers", "1.29.0"));
        }
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThat(SystemPackages.onnxRuntimePackages(empty)).isEmpty();
        }
    }

    /** The clauses of an OSGi header: split on commas outside quotes. */
    private static List<String> clauses(String header) {
        List<String> clauses = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                clauses.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        clauses.add(current.toString());
        return clauses;
    }

    private static List<String> packageNames(String header) {
        return clauses(header).stream().map(c -> c.split(";")[0].strip()).toList();
    }
}
