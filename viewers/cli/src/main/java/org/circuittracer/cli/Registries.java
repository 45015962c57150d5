package org.circuittracer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.circuittracer.runtime.ClasspathProviderRegistry;
import org.circuittracer.runtime.ProviderInfo;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.runtime.osgi.EquinoxRuntime;
import org.circuittracer.runtime.osgi.EquinoxSettings;
import org.circuittracer.runtime.osgi.PluginProblem;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Where the commands get their providers: the class path (with a plugins directory), or, when the launcher runs with
 * {@code --osgi}, an Eclipse Equinox framework in which the product's modules and the plugins are bundles.
 */
final class Registries {

    /** System property the launcher sets to {@code osgi} for {@code --osgi}. */
    static final String RUNTIME_PROPERTY = "circuittracer.runtime";
    /** System property: the directory of the bundles the OSGi runtime installs at boot. */
    static final String BUNDLES_PROPERTY = "circuittracer.bundles";

    private Registries() {
    }

    /** Whether this process runs its providers on Equinox. */
    static boolean osgi() {
        return "osgi".equals(System.getProperty(RUNTIME_PROPERTY));
    }

    /** The registry of this process; close it when done. {@code pluginDirectory} may be null. */
    static Registry open(Path pluginDirectory) {
        if (!osgi()) {
            ClasspathProviderRegistry registry = ClasspathProviderRegistry.withPluginDirectory(pluginDirectory);
            return new Registry(registry, "class path", List.of(), registry::close);
        }
        String bundles = System.getProperty(BUNDLES_PROPERTY);
        if (bundles == null || !Files.isDirectory(Path.of(bundles))) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The OSGi runtime needs the directory "
                    + "of its bundles (system property " + BUNDLES_PROPERTY + ", set by bin/circuit-tracer --osgi); got "
                    + bundles + ". Run the packaged launcher, or pass -D" + BUNDLES_PROPERTY + "=DIR.");
        }
        Path storage;
        try {
            storage = Files.createTempDirectory("circuit-tracer-osgi");
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot create the OSGi framework's "
                    + "storage directory: " + e.getMessage() + ". Check java.io.tmpdir.", e);
        }
        EquinoxSettings settings = EquinoxSettings.of(storage).withBundles(jars(Path.of(bundles)));
        if (pluginDirectory != null && Files.isDirectory(pluginDirectory)) {
            settings = settings.withPluginDirectory(pluginDirectory);
        }
        EquinoxRuntime runtime;
        try {
            runtime = EquinoxRuntime.start(settings);
        } catch (RuntimeException e) {
            deleteTree(storage);
            throw e;
        }
        return new Registry(runtime, "OSGi (Equinox, " + runtime.bundles().size() + " bundles)",
                runtime.problems().stream().map(PluginProblem::toString).toList(), () -> {
                    runtime.close();
                    deleteTree(storage);
                });
    }

    private static List<Path> jars(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list the bundles in "
                    + directory + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // a leftover temporary directory is harmless
        }
    }

    /**
     * An open registry.
     *
     * @param runtime  which runtime, for listings
     * @param problems plugins that could not be used (OSGi only)
     */
    record Registry(ProviderRegistry providers, String runtime, List<String> problems, Runnable closer)
            implements ProviderRegistry, AutoCloseable {

        Registry {
            problems = new ArrayList<>(problems);
        }

        @Override
        public <P extends Provider> List<P> all(ProviderKind<P> kind) {
            return providers.all(kind);
        }

        @Override
        public List<ProviderInfo> describe() {
            return providers.describe();
        }

        @Override
        public void close() {
            closer.run();
        }
    }
}
