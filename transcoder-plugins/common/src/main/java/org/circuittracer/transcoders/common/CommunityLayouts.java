package org.circuittracer.transcoders.common;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.circuittracer.spi.Recognition;

/** Markers of the formats that are not community layouts, which every community format leaves to their owners. */
public final class CommunityLayouts {

    private CommunityLayouts() {
    }

    /**
     * {@link Recognition#none} when {@code directory} holds the circuit-tracer format's {@code config.yaml} or our
     * native {@code dictionary.json}; empty otherwise.
     */
    public static Optional<Recognition> otherFormatsMarker(Path directory) {
        if (Files.exists(directory.resolve("config.yaml"))) {
            return Optional.of(Recognition.none("config.yaml is there (the circuit-tracer format's)"));
        }
        if (Files.exists(directory.resolve("dictionary.json"))) {
            return Optional.of(Recognition.none("dictionary.json is there (the native format's)"));
        }
        return Optional.empty();
    }
}
