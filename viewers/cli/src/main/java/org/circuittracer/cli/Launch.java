package org.circuittracer.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;

/** Where the command runs from, and what the launcher script told it. */
final class Launch {

    /** System property the launcher sets: the installation's plugins directory. */
    static final String PLUGINS_PROPERTY = "circuittracer.plugins";

    private Launch() {
    }

    /** The jar (or classes directory) this class was loaded from, or null. */
    static Path selfLocation() {
        try {
            CodeSource source = Launch.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The plugins directory: the one the launcher names ({@value #PLUGINS_PROPERTY}), else {@code plugins/} beside the
     * jar when the command runs from a jar and that directory exists, else null.
     */
    static Path defaultPluginDirectory() {
        String configured = System.getProperty(PLUGINS_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path self = selfLocation();
        if (self == null || !Files.isRegularFile(self) || self.getParent() == null) {
            return null;
        }
        Path plugins = self.getParent().resolve("plugins");
        return Files.isDirectory(plugins) ? plugins : null;
    }
}
