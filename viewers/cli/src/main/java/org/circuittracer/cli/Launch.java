package org.circuittracer.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;

/** Where the command runs from. */
final class Launch {

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

    /** {@code plugins/} beside the jar when the command runs from a jar and that directory exists, else null. */
    static Path defaultPluginDirectory() {
        Path self = selfLocation();
        if (self == null || !Files.isRegularFile(self) || self.getParent() == null) {
            return null;
        }
        Path plugins = self.getParent().resolve("plugins");
        return Files.isDirectory(plugins) ? plugins : null;
    }
}
