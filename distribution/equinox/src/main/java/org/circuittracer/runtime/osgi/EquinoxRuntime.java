package org.circuittracer.runtime.osgi;

import ai.djl.engine.Engine;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.circuittracer.runtime.ProviderInfo;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.StandardErrorCode;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * circuit-tracer's providers from OSGi bundles on an embedded Eclipse Equinox: the same {@link ProviderRegistry} as
 * the class path runtime, plus hot deployment from a plugins directory.
 *
 * <p>{@link #start(EquinoxSettings)} boots a framework whose system bundle exports the SPI and {@code ai.djl:api}
 * from the application class path (see {@link SystemPackages}), installs and starts the boot bundles, installs the
 * plugins directory's jars and then watches it. A bundle's {@code META-INF/services} providers become OSGi services
 * ({@link ServiceLoaderRegistrar}); {@link #all(ProviderKind)} and {@link #describe()} read them back. The view is
 * live: a provider appears when its bundle starts and disappears when it stops.
 *
 * <p>Problems with single plugins do not stop the runtime; {@link #problems()} reports them. Thread-safe.
 */
public final class EquinoxRuntime implements ProviderRegistry, AutoCloseable {

    /** Service property: the provider's validated name. */
    public static final String PROVIDER_NAME = "circuittracer.provider.name";
    /** Service property: where the provider comes from, {@code bundle <symbolic name> <version>}. */
    public static final String PROVIDER_ORIGIN = "circuittracer.provider.origin";

    private static final System.Logger LOG = System.getLogger(EquinoxRuntime.class.getName());
    private static final long STOP_TIMEOUT_MILLIS = 10_000;

    private final Framework framework;
    private final ProblemLog problems;
    private final ServiceLoaderRegistrar registrar;
    private final ServiceRegistryView view;
    private PluginDirectoryWatcher watcher;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EquinoxRuntime(Framework framework) {
        this.framework = framework;
        BundleContext context = framework.getBundleContext();
        this.problems = new ProblemLog();
        this.registrar = new ServiceLoaderRegistrar(context, problems);
        this.view = new ServiceRegistryView(context);
    }

    /**
     * Boots the framework, installs and starts {@link EquinoxSettings#bundles()}, installs the plugins directory's
     * jars and starts watching it. When this returns, every provider present at boot is registered.
     *
     * @throws CircuitTracerException FILE_NOT_FOUND if a boot bundle does not exist, INVALID_PROVIDER if one cannot
     *         be installed or resolved (the message names the jar and the unresolved requirement), INTERNAL if the
     *         framework itself cannot start
     */
    public static EquinoxRuntime start(EquinoxSettings settings) {
        for (Path jar : settings.bundles()) {
            if (!Files.isRegularFile(jar)) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The bundle " + jar
                        + " does not exist. Check the path (bundles are jar files, e.g. lib/circuit-tracer-*.jar).");
            }
        }
        initialiseDjlEngines();

        Thread thread = Thread.currentThread();
        ClassLoader callerContextLoader = thread.getContextClassLoader();
        Framework framework = newFramework(settings.storageDirectory());
        EquinoxRuntime runtime = null;
        try {
            framework.start(); // the framework's bundle context exists from here on
            runtime = new EquinoxRuntime(framework);
            runtime.registrar.open();
            runtime.view.open();
            runtime.startBootBundles(settings.bundles());
            if (settings.pluginDirectory().isPresent()) {
                runtime.watcher = new PluginDirectoryWatcher(settings.pluginDirectory().get(),
                        framework.getBundleContext(), runtime.problems);
                runtime.watcher.scanNow(); // plugins present at boot are there when start() returns
                runtime.watcher.start(settings.pollInterval());
            }
            return runtime;
        } catch (BundleException | RuntimeException e) {
            if (runtime != null) {
                runtime.close();
            } else {
                stop(framework);
            }
            if (e instanceof CircuitTracerException c) {
                throw c;
            }
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The OSGi framework could not start: "
                    + e.getMessage() + ". Check that the storage directory " + settings.storageDirectory()
                    + " is writable.", e);
        } finally {
            // Equinox makes its ContextFinder the context class loader of the thread that starts it; undo that.
            thread.setContextClassLoader(callerContextLoader);
        }
    }

    @Override
    public <P extends Provider> List<P> all(ProviderKind<P> kind) {
        return view.all(kind);
    }

    @Override
    public List<ProviderInfo> describe() {
        return view.describe();
    }

    /** The installed bundles (not the system bundle), e.g. {@code org.example.plugin 1.0.0 (ACTIVE)}. */
    public List<String> bundles() {
        return java.util.Arrays.stream(framework.getBundleContext().getBundles())
                .filter(b -> b.getBundleId() != 0)
                .map(b -> b.getSymbolicName() + " " + b.getVersion() + " (" + stateName(b.getState()) + ")")
                .toList();
    }

    /**
     * What is wrong with individual plugins right now: jars that could not be installed or started, providers that
     * could not be instantiated, providers hidden by an earlier one with the same name. A problem disappears when
     * its jar is fixed or removed.
     */
    public List<PluginProblem> problems() {
        List<PluginProblem> all = new ArrayList<>(problems.all());
        all.addAll(view.duplicates());
        return List.copyOf(all);
    }

    /** Stops watching and stops the framework; providers obtained from this registry must not be used afterwards. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (watcher != null) {
            watcher.close();
        }
        view.close();
        registrar.close();
        stop(framework);
    }

    private static void stop(Framework framework) {
        try {
            framework.stop();
            FrameworkEvent event = framework.waitForStop(STOP_TIMEOUT_MILLIS);
            if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                LOG.log(Level.WARNING, "The OSGi framework did not stop within " + STOP_TIMEOUT_MILLIS + " ms");
            }
        } catch (BundleException e) {
            LOG.log(Level.WARNING, "Stopping the OSGi framework failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Framework newFramework(Path storageDirectory) {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storageDirectory.toAbsolutePath().toString());
        // Every start begins empty: the boot bundles and the plugins directory are the only source of truth.
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, SystemPackages.extra());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, EquinoxRuntime.class.getClassLoader())
                .findFirst().orElseThrow(() -> new CircuitTracerException(StandardErrorCode.INTERNAL,
                        "No OSGi framework on the class path. Add org.eclipse.platform:org.eclipse.osgi."));
        return factory.newFramework(config);
    }

    /** Installs all boot bundles first, then starts them, so they may depend on each other in any order. */
    private void startBootBundles(List<Path> jars) {
        BundleContext context = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            try {
                // reference: boot bundles belong to the installation and are not replaced while running, so
                // Equinox may read them in place instead of copying them into its storage.
                bundles.add(Bundles.install(context, "reference:" + jar.toAbsolutePath().toUri()));
            } catch (BundleException e) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_PROVIDER, "Cannot install the bundle "
                        + jar + ": " + Bundles.message(e)
                        + (Bundles.isNotABundle(e) ? "." : ". Check that it is an OSGi bundle jar and not damaged."), e);
            }
        }
        for (int i = 0; i < bundles.size(); i++) {
            Bundle bundle = bundles.get(i);
            if (Bundles.isFragment(bundle)) {
                continue;
            }
            try {
                bundle.start();
            } catch (BundleException e) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_PROVIDER, "Cannot start the bundle "
                        + jars.get(i) + " (" + Bundles.describe(bundle) + "): " + Bundles.message(e) + ". Add the "
                        + "bundle that provides the missing requirement (--bundle), or rebuild this one against "
                        + "this version of circuit-tracer.", e);
            }
        }
    }

    /**
     * Lets DJL discover its engines from the application class path before any bundle runs. DJL looks engines up
     * with the thread context class loader and caches the answer for the life of the JVM; if the first lookup
     * happened on a plugin's thread with a bundle class loader (or Equinox's context finder) as context loader, it
     * would find none, forever. Having no engine at all is fine here: plugins that need one report it.
     */
    private static void initialiseDjlEngines() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try {
            thread.setContextClassLoader(Engine.class.getClassLoader());
            Set<String> engines = Engine.getAllEngines(); // runs (and caches) the discovery; empty if none
            LOG.log(Level.DEBUG, "DJL engines: " + engines);
        } catch (RuntimeException | LinkageError e) {
            LOG.log(Level.WARNING, "DJL engine discovery failed; plugins that need an engine will say so: " + e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static String stateName(int state) {
        return switch (state) {
            case org.osgi.framework.Bundle.ACTIVE -> "ACTIVE";
            case org.osgi.framework.Bundle.RESOLVED -> "RESOLVED";
            case org.osgi.framework.Bundle.INSTALLED -> "INSTALLED (unresolved)";
            case org.osgi.framework.Bundle.STARTING -> "STARTING";
            case org.osgi.framework.Bundle.STOPPING -> "STOPPING";
            default -> "UNINSTALLED";
        };
    }
}
