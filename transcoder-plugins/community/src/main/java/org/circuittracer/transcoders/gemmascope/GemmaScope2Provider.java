package org.circuittracer.transcoders.gemmascope;

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
 * The format {@code gemma-scope-2}: GemmaScope 2 (Gemma 3) per-layer transcoders as Google publishes them, one
 * directory per layer with {@code params.safetensors} and {@code config.json} (see {@link GemmaScope2Reader}).
 * Options: {@code readSite}, {@code writeSite} (override the configs' Hugging Face hook points) and {@code scan}.
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class GemmaScope2Provider implements DictionaryFormatProvider {

    static final String NAME = "gemma-scope-2";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "GemmaScope 2 JumpReLU transcoders: one directory per layer with params.safetensors and config.json, "
                + "as Google publishes them (transcoder_all/layer_N_width_…).";
    }

    /** The set's sub-directories, or one transcoder's directory (opening that says how to make a set of it). */
    @Override
    public Recognition recognize(Path directory) {
        Optional<Recognition> other = CommunityLayouts.otherFormatsMarker(directory);
        if (other.isPresent()) {
            return other.get();
        }
        if (Layers.holds(directory, GemmaScope2Reader.WEIGHTS)) {
            return Recognition.likely("one " + GemmaScope2Reader.WEIGHTS);
        }
        return Layers.anySubdirectoryHolds(directory, GemmaScope2Reader.WEIGHTS)
                ? Recognition.likely("layer sub-directories with " + GemmaScope2Reader.WEIGHTS)
                : Recognition.none("no " + GemmaScope2Reader.WEIGHTS + ", here or in a sub-directory");
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        if (!Files.isDirectory(source.directory())) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory "
                    + source.directory() + (Files.exists(source.directory()) ? " is a file, not a directory."
                    : " does not exist."));
        }
        return GemmaScope2Reader.open(source);
    }
}
