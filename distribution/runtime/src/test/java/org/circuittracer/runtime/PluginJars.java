package org.circuittracer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Builds real plugin jars for tests: compiles provider sources against the test class path and packs them. */
final class PluginJars {

    private PluginJars() {
    }

    /**
     * @param sources     class name → Java source
     * @param services    service interface name → implementation class names
     */
    static Path build(Path workDir, String jarName, Map<String, String> sources, Map<String, List<String>> services)
            throws IOException {
        Path src = Files.createDirectories(workDir.resolve(jarName + "-src"));
        Path classes = Files.createDirectories(workDir.resolve(jarName + "-classes"));
        for (var source : sources.entrySet()) {
            Path file = src.resolve(source.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<String> args = new java.util.ArrayList<>(List.of("-d", classes.toString(),
                "-classpath", System.getProperty("java.class.path"), "--release", "17"));
        try (Stream<Path> files = Files.walk(src)) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> args.add(f.toString()));
        }
        if (!sources.isEmpty()) {
            assertThat(compiler.run(null, null, null, args.toArray(String[]::new))).as("plugin compiles").isZero();
        }

        Path jar = workDir.resolve(jarName);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                zip.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                zip.write(Files.readAllBytes(f));
                zip.closeEntry();
            }
            for (var service : services.entrySet()) {
                zip.putNextEntry(new JarEntry("META-INF/services/" + service.getKey()));
                zip.write(String.join("\n", service.getValue()).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return jar;
    }

    /** Source of an attributor provider called {@code name} in class {@code className}. */
    static String attributorSource(String className, String name) {
        int dot = className.lastIndexOf('.');
        return "package " + className.substring(0, dot) + ";\n"
                + "public class " + className.substring(dot + 1)
                + " implements org.circuittracer.spi.attribution.AttributorProvider {\n"
                + "  public String name() { return \"" + name + "\"; }\n"
                + "  public String description() { return \"compiled by a test\"; }\n"
                + "  public org.circuittracer.spi.attribution.Attributor create(\n"
                + "      org.circuittracer.spi.attribution.AttributorOptions options) {\n"
                + "    throw new UnsupportedOperationException(\"test plugin\");\n"
                + "  }\n"
                + "}\n";
    }
}
