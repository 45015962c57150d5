package org.circuittracer.transcoders.sparsify;

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
 * The format {@code sparsify}: EleutherAI sparsify TopK transcoders, one sub-directory per hook point
 * ({@code layers.3.mlp/cfg.json} and {@code sae.safetensors}); see {@link SparsifyTranscoder} for the layer and site
 * mapping. Options: {@code readSite}, {@code writeSite} (default {@code mlp.hook_in} → {@code mlp.hook_out} for MLP
 * hook points) and {@code scan}.
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class SparsifyProvider implements DictionaryFormatProvider {

    static final String NAME = "sparsify";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "EleutherAI sparsify transcoders: one sub-directory per hook point (layers.N.mlp) with cfg.json and "
                + "sae.safetensors.";
    }

    /** Sub-directories of sparsify's layout, unless SAELens's file names are there too (then it is SAELens's). */
    @Override
    public Recognition recognize(Path directory) {
        Optional<Recognition> other = CommunityLayouts.otherFormatsMarker(directory);
        if (other.isPresent()) {
            return other.get();
        }
        if (Layers.anySubdirectoryHolds(directory, "cfg.json", "sae_weights.safetensors")) {
            return Recognition.none("sub-directories hold sae_weights.safetensors (SAELens's layout)");
        }
        return Layers.anySubdirectoryHolds(directory, SparsifyTranscoder.CONFIG, SparsifyTranscoder.WEIGHTS)
                ? Recognition.likely("hook-point sub-directories with cfg.json and sae.safetensors")
                : Recognition.none("no sub-directory with cfg.json and sae.safetensors");
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        if (!Files.isDirectory(source.directory())) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory "
                    + source.directory() + (Files.exists(source.directory()) ? " is a file, not a directory."
                    : " does not exist."));
        }
        return SparsifyReader.open(source);
    }
}
