package org.circuittracer.transcoders.nativeformat;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;

/**
 * The format {@code circuit-tracer-dictionary}: circuit-tracer's own, versioned and checksummed layout for per-layer
 * and cross-layer transcoders ({@code dictionary.json} and {@code layer_{i}.safetensors}; see {@link Manifest} and
 * {@link NativeFormatWriter}). Lazily loadable and WRITABLE; option {@code verify=full} also checks every byte.
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class NativeFormatProvider implements DictionaryFormatProvider {

    static final String NAME = "circuit-tracer-dictionary";

    /** The reference layout's marker: a directory with it belongs to the reference formats. */
    private static final String REFERENCE_CONFIG = "config.yaml";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "circuit-tracer's own dictionary format: dictionary.json (versioned, checksummed) and "
                + "layer_{i}.safetensors, per-layer or cross-layer, lazily loadable.";
    }

    /** A {@code dictionary.json} that is not some other tool's (unreadable ones count: reading them says why). */
    @Override
    public Recognition recognize(Path directory) {
        Path manifest = directory.resolve(Manifest.FILE_NAME);
        if (!Files.isRegularFile(manifest)) {
            return Recognition.none("no " + Manifest.FILE_NAME);
        }
        if (Files.exists(directory.resolve(REFERENCE_CONFIG))) {
            return Recognition.none(REFERENCE_CONFIG + " is there too (the circuit-tracer format's)");
        }
        try {
            JsonNode format = new ObjectMapper().readTree(manifest.toFile()).get("format");
            if (format != null && format.isTextual()) {
                return format.asText().equals(Manifest.FORMAT)
                        ? Recognition.certain(Manifest.FILE_NAME + " says format " + Manifest.FORMAT)
                        : Recognition.none(Manifest.FILE_NAME + " says format " + format.asText());
            }
            return Recognition.likely(Manifest.FILE_NAME + " without a format field");
        } catch (IOException | RuntimeException e) {
            // ours by its name: opening it says what is wrong with it
            return Recognition.likely(Manifest.FILE_NAME + " that does not parse");
        }
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        Path directory = source.directory();
        if (!Files.isDirectory(directory)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory " + directory
                    + (Files.exists(directory) ? " is a file, not a directory." : " does not exist."));
        }
        return NativeFormatReader.open(source);
    }
}
