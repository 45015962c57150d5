package org.circuittracer.transcoders.reference;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import java.util.List;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * The format {@code reference-plt}: per-layer transcoders as the Python reference stores them
 * ({@code model_kind: transcoder_set}; {@code layer_{i}.safetensors} or the files listed under {@code transcoders}).
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class ReferencePerLayerProvider extends ReferenceProvider {

    @Override
    ModelKind kind() {
        return ModelKind.TRANSCODER_SET;
    }

    @Override
    public String description() {
        return "Per-layer transcoders in circuit-tracer's layout: config.yaml (model_kind: transcoder_set) and "
                + "layer_{i}.safetensors.";
    }

    /** Lists of {@code .safetensors} files, local or {@code hf://}; not GemmaScope's {@code .npz} lists. */
    @Override
    boolean readsListedFiles(List<String> transcoders) {
        return transcoders.stream().allMatch(f -> RemoteEntries.pathPart(f).endsWith(LayerFiles.SUFFIX));
    }

    @Override
    SparseDictionary open(DictionarySource source, ReferenceConfig config, ReferenceOptions options) {
        return PerLayerReader.open(source, config, options);
    }

    @Override
    boolean claimsForeignCheckpoints() {
        return false;
    }
}
