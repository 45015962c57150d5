package org.circuittracer.runtime.osgi;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Keeps the bundles of a plugins directory in step with its {@code *.jar} files by polling: a new jar is installed
 * and started, a changed one (size or modification time) updated, a deleted one uninstalled, and the framework is
 * then refreshed so the old class loaders go away. Polling rather than a {@code WatchService}: it is simple, works
 * on every file system, and a 200 ms scan of one directory costs nothing.
 *
 * <p>Jars are installed from their plain {@code file:} URI, so Equinox copies them into its storage and the file
 * may be replaced or deleted at any time. A jar that fails (not a bundle, half-copied, unresolved import) is
 * reported to the {@link ProblemLog}; the others carry on, and the jar is retried when it changes. Bundles that
 * could not be started are retried whenever something else in the directory changes, since the newcomer may
 * export what they lack.
 */
final class PluginDirectoryWatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PluginDirectoryWatcher.class.getName());
    private static final Duration REFRESH_TIMEOUT = Duration.ofSeconds(10);

    /** What we last saw of a jar, and its bundle (null if it could not be installed). */
    private record Known(FileState state, Bundle bundle) {
    }

    private record FileState(long size, FileTime modified) {
    }

    private final Path directory;
    private final BundleContext context;
    private final ProblemLog problems;
    private final Map<Path, Known> known = new TreeMap<>(); // sorted: start order is stable
    private final Object lifecycle = new Object();
    private ScheduledExecutorService executor;

    PluginDirectoryWatcher(Path directory, BundleContext context, ProblemLog problems) {
        this.directory = directory;
        this.context = context;
        this.problems = problems;
    }

    /** Polls every {@code interval} on a daemon thread until {@link #close()}. */
    void start(Duration interval) {
        synchronized (lifecycle) {
            executor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "circuit-tracer-plugin-watcher");
                thread.setDaemon(true); // never keeps the JVM alive
                return thread;
            });
            long millis = interval.toMillis();
            executor.scheduleWithFixedDelay(this::scanQuietly, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    /** Brings the framework in line with the directory now; returns when every change has been applied. */
    synchronized void scanNow() {
        Map<Path, FileState> present = listJars();
        boolean installed = false;
        boolean removedOrUpdated = false;

        for (Path jar : List.copyOf(known.keySet())) {
            if (!present.containsKey(jar)) {
                Bundle bundle = known.remove(jar).bundle();
                problems.clear(key(jar));
                if (bundle != null) {
                    uninstall(jar, bundle);
                    removedOrUpdated = true;
                }
            }
        }
        for (Map.Entry<Path, FileState> file : present.entrySet()) {
            Path jar = file.getKey();
            Known before = known.get(jar);
            if (before != null && before.state().equals(file.getValue())) {
                continue;
            }
            problems.clear(key(jar));
            Bundle bundle = before == null || before.bundle() == null ? install(jar) : update(jar, before.bundle());
            removedOrUpdated |= before != null && before.bundle() != null;
            known.put(jar, new Known(file.getValue(), bundle));
            installed |= bundle != null;
        }
        if (removedOrUpdated) {
            refresh();
        }
        if (installed || removedOrUpdated) {
            // Retry earlier start failures too: what changed may be the bundle that exports what they import.
            known.forEach((jar, k) -> {
                if (k.bundle() != null) {
                    start(jar, k.bundle());
                }
            });
        }
    }

    /** Stops polling; a scan in progress finishes first. Installed bundles stay until the framework stops. */
    @Override
    public void close() {
        ScheduledExecutorService stopping;
        synchronized (lifecycle) { // not on this: a running scan holds that lock until it is done
            stopping = executor;
            executor = null;
        }
        if (stopping != null) {
            stopping.shutdown();
            awaitTermination(stopping);
        }
    }

    private static void awaitTermination(ScheduledExecutorService executor) {
        try {
            if (!executor.awaitTermination(REFRESH_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private void scanQuietly() {
        try {
            scanNow();
        } catch (RuntimeException e) {
            // Never let one failure cancel the schedule (e.g. the framework is stopping under us).
            LOG.log(Level.WARNING, "Scanning the plugins directory " + directory + " failed: " + e, e);
        }
    }

    private Bundle install(Path jar) {
        try {
            return Bundles.install(context, jar.toUri().toString());
        } catch (BundleException | RuntimeException e) {
            report(jar, "cannot install it: " + message(e) + (Bundles.isNotABundle(e) ? "" : ". Check that it is a "
                    + "complete OSGi bundle jar") + ". It is retried when the file changes.");
            return null;
        }
    }

    private Bundle update(Path jar, Bundle bundle) {
        try {
            bundle.update(); // re-reads the location, i.e. the jar; restarts the bundle if it was active
            return bundle;
        } catch (BundleException | RuntimeException e) {
            report(jar, "cannot update it: " + message(e) + ". The previous version stays installed.");
            return bundle;
        }
    }

    private void uninstall(Path jar, Bundle bundle) {
        try {
            bundle.uninstall();
        } catch (BundleException | IllegalStateException e) {
            LOG.log(Level.WARNING, "Uninstalling " + jar + " failed: " + e);
        }
    }

    private void start(Path jar, Bundle bundle) {
        if (bundle.getState() == Bundle.ACTIVE || bundle.getState() == Bundle.UNINSTALLED
                || Bundles.isFragment(bundle)) {
            return;
        }
        problems.clear(key(jar));
        try {
            bundle.start();
        } catch (BundleException | RuntimeException e) {
            report(jar, "cannot start " + Bundles.describe(bundle) + ": " + message(e) + ". Install the bundle "
                    + "that provides what is missing (it is retried when the plugins directory changes), or "
                    + "rebuild the plugin for this version of circuit-tracer.");
        }
    }

    /** Discards the class loaders of uninstalled and replaced bundles; waits so the next scan starts clean. */
    private void refresh() {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(null, event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        });
        try {
            if (!done.await(REFRESH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.log(Level.WARNING, "Refreshing the framework took longer than " + REFRESH_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Map<Path, FileState> listJars() {
        Map<Path, FileState> jars = new TreeMap<>(); // sorted: installation order (and duplicate winners) is stable
        if (!Files.isDirectory(directory)) {
            return jars;
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (!file.getFileName().toString().endsWith(".jar")) {
                    continue;
                }
                try {
                    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    if (attributes.isRegularFile()) {
                        jars.put(file, new FileState(attributes.size(), attributes.lastModifiedTime()));
                    }
                } catch (IOException deletedMeanwhile) {
                    // Gone between listing and reading: the next scan sees it as removed.
                }
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Cannot list the plugins directory " + directory + ": " + e);
            return Map.copyOf(knownStates()); // keep everything as it is rather than uninstalling all
        }
        return jars;
    }

    private Map<Path, FileState> knownStates() {
        Map<Path, FileState> states = new HashMap<>();
        known.forEach((jar, k) -> states.put(jar, k.state()));
        return states;
    }

    private void report(Path jar, String message) {
        problems.report(key(jar), new PluginProblem(jar.toString(), message));
    }

    private static String key(Path jar) {
        return "jar:" + jar;
    }

    private static String message(Exception e) {
        return e instanceof BundleException b ? Bundles.message(b) : e.toString();
    }
}
