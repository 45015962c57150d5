package org.circuittracer.transcoders.gemmascope;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;

/**
 * The format {@code gemma-scope-npz}: GemmaScope JumpReLU transcoders, one NumPy {@code params.npz} per layer,
 * listed in the reference's {@code config.yaml} or found by name ({@code layer_{i}.npz}, {@code layer_{i}/…/params.npz}); see
 * {@link GemmaScopeLayout}. Loaded eagerly (one copy in memory). Options: {@code readSite}, {@code writeSite}
 * (plain layout only; default {@code ln2.hook_normalized} → {@code hook_mlp_out}) and {@code scan}.
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class GemmaScopeNpzProvider implements DictionaryFormatProvider {

    static final String NAME = "gemma-scope-npz";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "GemmaScope JumpReLU transcoders: one NumPy params.npz per layer (config.yaml list, layer_{i}.npz or "
                + "layer_{i}/.../params.npz), loaded eagerly.";
    }

    @Override
    public Recognition recognize(Path directory) {
        return Files.isDirectory(directory) ? GemmaScopeLayout.recognize(directory)
                : Recognition.none(Files.exists(directory) ? "a file, not a directory" : "does not exist");
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        if (!Files.isDirectory(source.directory())) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The dictionary directory "
                    + source.directory() + (Files.exists(source.directory()) ? " is a file, not a directory."
                    : " does not exist."));
        }
        return GemmaScopeReader.open(source);
    }
}
