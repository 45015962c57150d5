package org.circuittracer.runtime.osgi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How to boot an {@link EquinoxRuntime}.
 *
 * @param storageDirectory the framework's private storage (installed bundles, caches); wiped at every start
 * @param bundles          library and plugin bundles installed and started at boot, in this order; a failure is fatal
 * @param pluginDirectory  a directory whose {@code *.jar} files are installed at boot and watched afterwards; a
 *                         broken jar there is reported as a problem, never fatal
 * @param pollInterval     how often the plugin directory is scanned
 */
public record EquinoxSettings(Path storageDirectory, List<Path> bundles, Optional<Path> pluginDirectory,
        Duration pollInterval) {

    /** The default {@link #pollInterval()}: hot deployment within a fraction of a second, negligible CPU. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(200);

    public EquinoxSettings {
        Objects.requireNonNull(storageDirectory, "storageDirectory");
        bundles = List.copyOf(bundles);
        Objects.requireNonNull(pluginDirectory, "pluginDirectory");
        Objects.requireNonNull(pollInterval, "pollInterval");
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("pollInterval must be positive: " + pollInterval);
        }
    }

    /** No bundles, no plugin directory, the default poll interval. */
    public static EquinoxSettings of(Path storageDirectory) {
        return new EquinoxSettings(storageDirectory, List.of(), Optional.empty(), DEFAULT_POLL_INTERVAL);
    }

    /** These settings with {@code more} appended to {@link #bundles()}. */
    public EquinoxSettings withBundles(List<Path> more) {
        List<Path> all = new ArrayList<>(bundles);
        all.addAll(more);
        return new EquinoxSettings(storageDirectory, all, pluginDirectory, pollInterval);
    }

    /** These settings watching {@code directory}. */
    public EquinoxSettings withPluginDirectory(Path directory) {
        return new EquinoxSettings(storageDirectory, bundles, Optional.of(directory), pollInterval);
    }

    /** These settings with another poll interval. */
    public EquinoxSettings withPollInterval(Duration interval) {
        return new EquinoxSettings(storageDirectory, bundles, pluginDirectory, interval);
    }
}
