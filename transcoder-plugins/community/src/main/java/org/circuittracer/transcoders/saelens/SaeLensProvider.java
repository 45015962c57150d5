package org.circuittracer.transcoders.saelens;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.CommunityLayouts;
import org.circuittracer.transcoders.common.Layers;

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
    public Recognition recognize(Path directory) {
        Optional<Recognition> other = CommunityLayouts.otherFormatsMarker(directory);
        if (other.isPresent()) {
            return other.get();
        }
        String[] files = {SaeLensTranscoder.CONFIG, SaeLensTranscoder.WEIGHTS};
        if (Layers.holds(directory, files)) {
            return Recognition.likely("one SAE directory with cfg.json and sae_weights.safetensors");
        }
        return Layers.anySubdirectoryHolds(directory, files)
                ? Recognition.likely("layer sub-directories with cfg.json and sae_weights.safetensors")
                : Recognition.none("no cfg.json with sae_weights.safetensors, here or in a sub-directory");
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
