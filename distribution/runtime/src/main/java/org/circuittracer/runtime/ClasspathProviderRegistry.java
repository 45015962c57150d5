package org.circuittracer.runtime;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Providers found with {@link ServiceLoader} on a class loader (normally the application class path) and in the
 * jars of an optional plugins directory. Each plugin jar gets its own class loader whose parent is the application
 * class loader, so plugins share the SPI and DJL but not each other's classes. Discovery happens once, at
 * construction; the registry is immutable afterwards.
 */
public final class ClasspathProviderRegistry implements ProviderRegistry, AutoCloseable {

    private final Map<ProviderKind<?>, List<Loaded>> providers = new LinkedHashMap<>();
    private final List<URLClassLoader> pluginLoaders = new ArrayList<>();

    private record Loaded(Provider provider, String origin) {
    }

    private ClasspathProviderRegistry(ClassLoader applicationLoader, Path pluginDirectory) {
        Map<ProviderKind<?>, Map<String, Loaded>> byName = new HashMap<>();
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            byName.put(kind, new LinkedHashMap<>());
        }
        discover(applicationLoader, "class path", byName);
        if (pluginDirectory != null) {
            for (Path jar : pluginJars(pluginDirectory)) {
                URLClassLoader loader = new URLClassLoader("plugin " + jar.getFileName(), new URL[] {url(jar)},
                        applicationLoader);
                pluginLoaders.add(loader);
                discover(loader, pluginDirectory.getFileName() + "/" + jar.getFileName(), byName);
            }
        }
        byName.forEach((kind, loaded) -> providers.put(kind, loaded.values().stream()
                .sorted(Comparator.comparing(l -> l.provider().name())).toList()));
    }

    /** Providers on the application class path only. */
    public static ClasspathProviderRegistry fromClasspath() {
        return new ClasspathProviderRegistry(ClasspathProviderRegistry.class.getClassLoader(), null);
    }

    /**
     * Providers on the application class path and in the {@code *.jar} files of {@code pluginDirectory} (not
     * recursive; a missing directory is treated as empty).
     */
    public static ClasspathProviderRegistry withPluginDirectory(Path pluginDirectory) {
        return new ClasspathProviderRegistry(ClasspathProviderRegistry.class.getClassLoader(), pluginDirectory);
    }

    /** Providers visible to {@code loader} and in {@code pluginDirectory} (may be null). */
    public static ClasspathProviderRegistry of(ClassLoader loader, Path pluginDirectory) {
        return new ClasspathProviderRegistry(loader, pluginDirectory);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <P extends Provider> List<P> all(ProviderKind<P> kind) {
        return providers.getOrDefault(kind, List.of()).stream().map(l -> (P) l.provider()).toList();
    }

    @Override
    public List<ProviderInfo> describe() {
        List<ProviderInfo> infos = new ArrayList<>();
        providers.forEach((kind, loaded) -> loaded.forEach(l -> infos.add(new ProviderInfo(kind.label(),
                l.provider().name(), l.provider().description(), l.origin(), l.provider().getClass().getName()))));
        return List.copyOf(infos);
    }

    /** Closes the plugin class loaders; providers from plugin jars must not be used afterwards. */
    @Override
    public void close() {
        for (URLClassLoader loader : pluginLoaders) {
            try {
                loader.close();
            } catch (IOException ignored) {
                // Nothing useful to do: the jar stays open until the JVM exits.
            }
        }
    }

    private static void discover(ClassLoader loader, String origin, Map<ProviderKind<?>, Map<String, Loaded>> byName) {
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            Map<String, Loaded> named = byName.get(kind);
            for (Provider provider : load(kind, loader, origin)) {
                // A plugin jar's loader also sees the class path; skip what the parent already provided.
                if (named.values().stream().anyMatch(l -> l.provider().getClass() == provider.getClass())) {
                    continue;
                }
                String name = Provider.requireValidName(provider.name(), provider.getClass());
                Loaded previous = named.putIfAbsent(name, new Loaded(provider, origin));
                if (previous != null) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_PROVIDER, "Two " + kind.label()
                            + " providers are named '" + name + "': " + previous.provider().getClass().getName()
                            + " (" + previous.origin() + ") and " + provider.getClass().getName() + " (" + origin
                            + "). Remove one of the plugins.");
                }
            }
        }
    }

    private static List<Provider> load(ProviderKind<?> kind, ClassLoader loader, String origin) {
        List<Provider> found = new ArrayList<>();
        try {
            for (Provider provider : ServiceLoader.load(kind.type(), loader)) {
                found.add(provider);
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_PROVIDER, "A " + kind.label()
                    + " provider from " + origin + " could not be loaded: " + e.getMessage()
                    + ". Check that the plugin was built for this version of circuit-tracer and has a public "
                    + "no-argument constructor.", e);
        }
        return found;
    }

    private static List<Path> pluginJars(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                    .sorted().toList();
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot list the plugins directory "
                    + directory + ": " + e.getMessage() + ". Check its permissions.", e);
        }
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot turn " + jar + " into a URL.", e);
        }
    }
}
