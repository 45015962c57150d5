package org.circuittracer.runtime.osgi;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.wiring.BundleRevision;

/** Small helpers shared by the boot sequence and the directory watcher. */
final class Bundles {

    private Bundles() {
    }

    /** {@code bundle <symbolic name> <version>}: how problems and listings name a bundle. */
    static String describe(Bundle bundle) {
        return "bundle " + bundle.getSymbolicName() + " " + bundle.getVersion();
    }

    /** The key under which problems about {@code bundle} are kept. */
    static String problemKey(Bundle bundle) {
        return "bundle:" + bundle.getBundleId();
    }

    static boolean isFragment(Bundle bundle) {
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        return revision != null && (revision.getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
    }

    /**
     * Installs {@code location} and insists that it is an OSGi bundle. Equinox accepts a plain jar (no
     * {@code Bundle-SymbolicName}) as a legacy bundle that exports and registers nothing; refusing it gives the
     * user an error instead of a silently empty plugin.
     */
    static Bundle install(BundleContext context, String location) throws BundleException {
        Bundle bundle = context.installBundle(location);
        if (bundle.getSymbolicName() == null) {
            bundle.uninstall();
            throw new BundleException("it is not an OSGi bundle (its manifest has no Bundle-SymbolicName). Build "
                    + "plugins with bnd-maven-plugin, or use the class path runtime for plain jars",
                    BundleException.MANIFEST_ERROR);
        }
        return bundle;
    }

    /**
     * An Equinox bundle exception message on one line, without a final period, with the root cause's message
     * (e.g. {@code Error occurred installing a bundle: zip END header not found}; the intermediate causes only name
     * Equinox's copy of the jar in its storage).
     */
    static String message(BundleException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null) {
            message = message.strip().replaceAll("\\.+$", "") + ": " + root.getMessage();
        }
        return message.strip().replaceAll("\\s*\\R\\s*", "; ").replaceAll("\\.+$", "");
    }

    /** True for the exception {@link #install} throws for a jar without OSGi headers. */
    static boolean isNotABundle(Exception e) {
        return e instanceof BundleException b && b.getType() == BundleException.MANIFEST_ERROR;
    }
}
