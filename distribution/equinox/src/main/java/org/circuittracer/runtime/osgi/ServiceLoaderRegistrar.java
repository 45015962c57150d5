package org.circuittracer.runtime.osgi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.util.tracker.BundleTracker;

/**
 * Publishes the {@code META-INF/services} providers of every active bundle as OSGi services, so that one plugin jar
 * works both with {@link java.util.ServiceLoader} on the class path and here, without SPI Fly or weaving.
 *
 * <p>For each extension point of {@link ProviderKind#ALL} the bundle lists in {@code META-INF/services/<interface>},
 * each class is loaded from the bundle, instantiated with its public no-argument constructor and registered under
 * the interface name, from the bundle's own context (so the framework also drops the service when the bundle
 * stops), with the properties {@link EquinoxRuntime#PROVIDER_NAME} and {@link EquinoxRuntime#PROVIDER_ORIGIN}.
 * A provider that cannot be loaded, instantiated or named is reported to the {@link ProblemLog} and skipped; the
 * bundle's other providers and the other bundles are unaffected.
 */
final class ServiceLoaderRegistrar extends BundleTracker<List<ServiceRegistration<?>>> {

    private final ProblemLog problems;

    ServiceLoaderRegistrar(BundleContext context, ProblemLog problems) {
        super(context, Bundle.ACTIVE, null);
        this.problems = problems;
    }

    @Override
    public List<ServiceRegistration<?>> addingBundle(Bundle bundle, BundleEvent event) {
        if (bundle.getBundleId() == 0) {
            return null; // the system bundle: class path providers belong to the class path runtime
        }
        boolean declaresProviders = false;
        List<ServiceRegistration<?>> registrations = new ArrayList<>();
        for (ProviderKind<?> kind : ProviderKind.ALL) {
            URL servicesFile = bundle.getEntry("META-INF/services/" + kind.type().getName());
            if (servicesFile == null) {
                continue;
            }
            declaresProviders = true;
            for (String className : classNames(bundle, servicesFile)) {
                ServiceRegistration<?> registration = register(bundle, kind, className);
                if (registration != null) {
                    registrations.add(registration);
                }
            }
        }
        // Track every bundle that declared providers, even if all failed, so removedBundle clears its problems.
        return declaresProviders ? registrations : null;
    }

    @Override
    public void removedBundle(Bundle bundle, BundleEvent event, List<ServiceRegistration<?>> registrations) {
        for (ServiceRegistration<?> registration : registrations) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // The framework unregisters a stopping bundle's services itself; either order is fine.
            }
        }
        problems.clear(Bundles.problemKey(bundle));
    }

    private ServiceRegistration<?> register(Bundle bundle, ProviderKind<?> kind, String className) {
        String origin = Bundles.describe(bundle);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        // Plugins may touch DJL (or other TCCL-based lookups) in their constructor: let them see their own bundle.
        if (wiring != null) {
            thread.setContextClassLoader(wiring.getClassLoader());
        }
        try {
            Class<?> type = bundle.loadClass(className);
            if (!kind.type().isAssignableFrom(type)) {
                return fail(bundle, className + " is listed as a " + kind.label() + " provider but is not a "
                        + kind.type().getName() + " as circuit-tracer sees it. Make it implement that interface and "
                        + "import the org.circuittracer.spi packages instead of embedding a copy of the SPI.");
            }
            Provider provider = kind.type().cast(type.getConstructor().newInstance());
            String name = Provider.requireValidName(provider.name(), type);
            Dictionary<String, Object> properties = new Hashtable<>();
            properties.put(EquinoxRuntime.PROVIDER_NAME, name);
            properties.put(EquinoxRuntime.PROVIDER_ORIGIN, origin);
            return bundle.getBundleContext().registerService(kind.type().getName(), provider, properties);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            return fail(bundle, "the " + kind.label() + " provider class " + className + " listed in "
                    + "META-INF/services/" + kind.type().getName() + " cannot be loaded (" + e.getMessage() + "). "
                    + "Check the class name and that the bundle contains or imports it.");
        } catch (NoSuchMethodException e) {
            return fail(bundle, "the " + kind.label() + " provider " + className
                    + " has no public no-argument constructor. Add one.");
        } catch (InvocationTargetException e) {
            return fail(bundle, "the constructor of the " + kind.label() + " provider " + className + " failed: "
                    + e.getCause() + ". Providers must not do work before create(...) is called.");
        } catch (CircuitTracerException e) {
            return fail(bundle, e.getMessage());
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return fail(bundle, "the " + kind.label() + " provider " + className + " could not be registered: " + e
                    + ". Check that the plugin was built for this version of circuit-tracer.");
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private ServiceRegistration<?> fail(Bundle bundle, String message) {
        problems.report(Bundles.problemKey(bundle), new PluginProblem(Bundles.describe(bundle), message));
        return null;
    }

    /** The class names of a services file: one per line, {@code #} starts a comment. */
    private List<String> classNames(Bundle bundle, URL servicesFile) {
        List<String> names = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(servicesFile.openStream(), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                int comment = line.indexOf('#');
                String name = (comment >= 0 ? line.substring(0, comment) : line).strip();
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            fail(bundle, "cannot read " + servicesFile.getPath() + ": " + e.getMessage() + ". Rebuild the plugin jar.");
        }
        return names;
    }
}
