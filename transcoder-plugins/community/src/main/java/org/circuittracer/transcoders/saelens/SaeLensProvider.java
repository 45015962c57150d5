package org.circuittracer.transcoders.saelens;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.community.Layers;

/**
 * The format {@code saelens}: SAELens transcoders, one sub-directory per layer with {@code cfg.json} and
 * {@code sae_weights.safetensors} (see {@link SaeLensTranscoder} for what is accepted). Options: {@code readSite},
 * {@code writeSite} (override the configs' hook names) and {@code scan}.
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class SaeLensProvider implements DictionaryFormatProvider {

    static final String NAME = "saelens";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "SAELens transcoders: one sub-directory per layer with cfg.json and sae_weights.safetensors.";
    }

    /** The set's sub-directories, or one SAE directory (opening that says how to make a set of it). */
    @Override
    public boolean recognizes(Path directory) {
        if (Files.exists(directory.resolve("config.yaml")) || Files.exists(directory.resolve("dictionary.json"))) {
            return false;
        }
        String[] files = {SaeLensTranscoder.CONFIG, SaeLensTranscoder.WEIGHTS};
        return Layers.holds(directory, files) || Layers.anySubdirectoryHolds(directory, files);
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        if (!Files.isDirectory(source.directory())) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory "
                    + source.directory() + (Files.exists(source.directory()) ? " is a file, not a directory."
                    : " does not exist."));
        }
        return SaeLensReader.open(source);
    }
}
