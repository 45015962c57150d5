package org.circuittracer.runtime.osgi;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.StandardErrorCode;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The value of {@code org.osgi.framework.system.packages.extra}: the packages the system bundle exports from the
 * application class path to every bundle.
 *
 * <p>The SPI is exported from here and its bundle is <em>not</em> installed: a second copy of the SPI classes,
 * loaded by a bundle class loader, would make plugin providers instances of a different {@code AttributorProvider}
 * class than the host's, so the host could not cast them (and the tracker would not even see them).
 *
 * <p>All packages of {@code ai.djl:api} are exported because the SPI's signatures use {@code ai.djl.ndarray} and
 * plugins may use any of the API; bnd gives a plugin an {@code Import-Package} for every {@code ai.djl} package it
 * touches, and a package missing here would make the plugin unresolvable. The list is read from the jar that
 * holds {@link NDArray} so that it follows DJL upgrades.
 *
 * <p>The other DJL jars on the class path (the PyTorch engine, the Hugging Face tokenizers) are exported too: their
 * native libraries can be loaded only once per JVM, so they stay on the class path, and a backend bundle such as
 * {@code djl} imports their packages from the system bundle (docs/reference/stack.md §4.4, layout A).
 *
 * <p>ONNX Runtime ({@code com.microsoft.onnxruntime:onnxruntime} or {@code onnxruntime_gpu}, not a bundle) follows the
 * same layout: its jar stays on the class path, where its native library is loaded once by the application class
 * loader, and its {@code ai.onnxruntime} packages are exported at the jar's Implementation-Version for the
 * {@code onnx} backend bundle. Without that jar on the class path nothing is exported and the {@code onnx} bundle
 * stays unresolved (a plugin problem, not a boot failure).
 */
final class SystemPackages {

    /** The SPI bundle, whose own {@code Export-Package} header says which packages and versions to export. */
    static final String SPI_SYMBOLIC_NAME = "org.circuittracer.circuit-tracer-spi";

    /** The Automatic-Module-Name of both ONNX Runtime jars (CPU and CUDA builds). */
    static final String ONNX_RUNTIME_MODULE = "com.microsoft.onnxruntime";

    /** Used when the DJL jar has no Specification-Version: the version the parent pom pins. */
    static final String DJL_FALLBACK_VERSION = "0.36.0";

    /** What the SPI needs if the DJL jar cannot be listed (e.g. classes inside a custom runtime image). */
    private static final List<String> DJL_MINIMUM = List.of("ai.djl", "ai.djl.ndarray", "ai.djl.ndarray.types");

    private static final Pattern OSGI_VERSION = Pattern.compile("^\\d+(\\.\\d+){0,2}");
    private static final Pattern VERSION_ATTRIBUTE = Pattern.compile(";\\s*version\\s*=\\s*\"?([0-9][0-9.]*)");

    private SystemPackages() {
    }

    /** {@code pkg;version="v",...} for the SPI, DJL and ONNX Runtime packages. */
    static String extra() {
        Stream<String> spi = spiPackages().entrySet().stream()
                .map(e -> e.getKey() + ";version=\"" + e.getValue() + "\"");
        String djlVersion = djlVersion();
        Set<String> packages = new TreeSet<>(djlPackages());
        packages.addAll(djlLibraryPackages());
        Stream<String> djl = packages.stream().map(p -> p + ";version=\"" + djlVersion + "\"");
        Stream<String> onnxRuntime = onnxRuntimePackages(SystemPackages.class.getClassLoader()).entrySet().stream()
                .map(e -> e.getKey() + ";version=\"" + e.getValue() + "\"");
        return Stream.of(spi, djl, onnxRuntime).flatMap(s -> s).collect(Collectors.joining(","));
    }

    /**
     * The SPI's packages and their versions, read from the SPI bundle's manifest on the class path (so a package whose
     * version grows with the SPI is exported at its new version without anyone editing this class).
     */
    static Map<String, String> spiPackages() {
        try {
            for (URL url : Collections.list(Provider.class.getClassLoader().getResources("META-INF/MANIFEST.MF"))) {
                try (InputStream in = url.openStream()) {
                    Attributes attributes = new Manifest(in).getMainAttributes();
                    if (SPI_SYMBOLIC_NAME.equals(attributes.getValue("Bundle-SymbolicName"))) {
                        return exportedVersions(attributes.getValue("Export-Package"));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The SPI jar on the class path has no OSGi "
                + "manifest (Bundle-SymbolicName " + SPI_SYMBOLIC_NAME + "); rebuild it with 'mvn package'.");
    }

    /** {@code package → version} of an {@code Export-Package} header (commas inside quotes do not split clauses). */
    static Map<String, String> exportedVersions(String header) {
        Map<String, String> versions = new TreeMap<>();
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (char c : (header + ",").toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                String[] parts = clause.toString().trim().split(";");
                Matcher version = VERSION_ATTRIBUTE.matcher(clause);
                if (!parts[0].isEmpty()) {
                    versions.put(parts[0].trim(), version.find() ? version.group(1) : "0.0.0");
                }
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        return versions;
    }

    /** Every package of the {@code ai.djl:api} jar, sorted. */
    static Set<String> djlPackages() {
        Module module = NDArray.class.getModule();
        if (module.isNamed()) {
            return new TreeSet<>(module.getPackages());
        }
        CodeSource source = NDArray.class.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null || !"file".equals(source.getLocation().getProtocol())) {
            return new TreeSet<>(DJL_MINIMUM);
        }
        try {
            Path location = Path.of(source.getLocation().toURI());
            return Files.isDirectory(location) ? packagesInDirectory(location) : packagesInJar(location, "ai/djl/");
        } catch (URISyntaxException | IOException e) {
            return new TreeSet<>(DJL_MINIMUM);
        }
    }

    /**
     * The {@code ai.djl} packages of every other DJL jar on the class path (those whose manifest names an automatic
     * module {@code ai.djl.*}, e.g. {@code ai.djl.pytorch_engine}, {@code ai.djl.tokenizers}), sorted.
     */
    static Set<String> djlLibraryPackages() {
        Set<String> packages = new TreeSet<>();
        try {
            for (URL url : Collections.list(SystemPackages.class.getClassLoader().getResources("META-INF/MANIFEST.MF"))) {
                String module;
                try (InputStream in = url.openStream()) {
                    module = new Manifest(in).getMainAttributes().getValue("Automatic-Module-Name");
                }
                Path jar = jarOf(url);
                if (module != null && module.startsWith("ai.djl.") && jar != null) {
                    packages.addAll(packagesInJar(jar, "ai/djl/"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return packages;
    }

    /**
     * {@code package → version} of the ONNX Runtime jar that {@code loader} sees (the one whose manifest names the
     * automatic module {@value #ONNX_RUNTIME_MODULE}): every {@code ai.onnxruntime} package in it, at its
     * Implementation-Version as an OSGi version ({@code 0.0.0} if absent). Empty when there is no such jar.
     */
    static Map<String, String> onnxRuntimePackages(ClassLoader loader) {
        Map<String, String> packages = new TreeMap<>();
        try {
            for (URL url : Collections.list(loader.getResources("META-INF/MANIFEST.MF"))) {
                Attributes attributes;
                try (InputStream in = url.openStream()) {
                    attributes = new Manifest(in).getMainAttributes();
                }
                Path jar = jarOf(url);
                if (!ONNX_RUNTIME_MODULE.equals(attributes.getValue("Automatic-Module-Name")) || jar == null) {
                    continue;
                }
                Matcher version = OSGI_VERSION.matcher(Objects.requireNonNullElse(
                        attributes.getValue("Implementation-Version"), ""));
                String osgiVersion = version.find() ? version.group() : "0.0.0";
                packagesInJar(jar, "ai/onnxruntime/").forEach(p -> packages.putIfAbsent(p, osgiVersion));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return packages;
    }

    /** The local jar of a {@code jar:file:...!/entry} URL, or null. */
    private static Path jarOf(URL url) {
        String spec = url.toString();
        int bang = spec.indexOf("!/");
        if (!spec.startsWith("jar:file:") || bang < 0) {
            return null;
        }
        try {
            return Path.of(new java.net.URI(spec.substring(4, bang)));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /** DJL's version as an OSGi version, from the jar's Specification-Version. */
    static String djlVersion() {
        String declared = NDArray.class.getPackage().getSpecificationVersion();
        Matcher matcher = OSGI_VERSION.matcher(declared == null ? "" : declared);
        return matcher.find() ? matcher.group() : DJL_FALLBACK_VERSION;
    }

    private static Set<String> packagesInJar(Path jar, String prefix) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).map(e -> packageOfClass(e, prefix))
                    .filter(p -> !p.isEmpty()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static Set<String> packagesInDirectory(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.map(f -> root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/"))
                    .map(e -> packageOfClass(e, "ai/djl/")).filter(p -> !p.isEmpty())
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * {@code ai/djl/ndarray/NDArray.class} → {@code ai.djl.ndarray} for the prefix {@code ai/djl/}; anything else
     * (META-INF, resources, classes outside the prefix) → "".
     */
    private static String packageOfClass(String entry, String prefix) {
        int slash = entry.lastIndexOf('/');
        if (!entry.startsWith(prefix) || !entry.endsWith(".class") || slash < 0) {
            return "";
        }
        return entry.substring(0, slash).replace('/', '.');
    }
}
