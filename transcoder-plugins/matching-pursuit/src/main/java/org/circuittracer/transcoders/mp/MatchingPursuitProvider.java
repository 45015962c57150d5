package org.circuittracer.transcoders.mp;

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

/** Provider {@value #NAME}: directories with a {@code matching-pursuit.json} manifest. */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class MatchingPursuitProvider implements DictionaryFormatProvider {

    public static final String NAME = "matching-pursuit";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Matching-pursuit transcoders: greedy sparse codes with a linear decoder (matching-pursuit.json).";
    }

    @Override
    public Recognition recognize(Path directory) {
        return Files.isRegularFile(directory.resolve(MatchingPursuitManifest.FILE))
                ? Recognition.certain(MatchingPursuitManifest.FILE + " is there")
                : Recognition.none("no " + MatchingPursuitManifest.FILE);
    }

    @Override
    public SparseDictionary create(DictionarySource source) {
        if (!source.options().isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The matching-pursuit format takes no "
                    + "options, got " + source.options().keySet() + ".");
        }
        if (!Files.isDirectory(source.directory())) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Dictionary directory "
                    + source.directory() + " does not exist.");
        }
        MatchingPursuitManifest manifest = MatchingPursuitManifest.read(source.directory());
        return new MatchingPursuitDictionary(source.directory(), manifest, source.lazyEncoder(), source.lazyDecoder(),
                ai.djl.ndarray.NDManager.newBaseManager());
    }
}
