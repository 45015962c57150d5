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
 * The format {@code reference-clt}: a cross-layer transcoder as the Python reference stores it
 * ({@code model_kind: cross_layer_transcoder}; {@code W_enc_{i}.safetensors} and {@code W_dec_{i}.safetensors}).
 */
@ServiceProvider(value = DictionaryFormatProvider.class, resolution = Resolution.OPTIONAL)
public final class ReferenceCrossLayerProvider extends ReferenceProvider {

    @Override
    ModelKind kind() {
        return ModelKind.CROSS_LAYER_TRANSCODER;
    }

    @Override
    public String description() {
        return "Cross-layer transcoders in circuit-tracer's layout: config.yaml (model_kind: cross_layer_transcoder), "
                + "W_enc_{i}.safetensors and W_dec_{i}.safetensors.";
    }

    /** A list of files marks a GemmaScope-2 cross-layer transcoder. */
    @Override
    boolean readsListedFiles(List<String> transcoders) {
        return transcoders.isEmpty();
    }

    @Override
    SparseDictionary open(DictionarySource source, ReferenceConfig config, ReferenceOptions options) {
        return CrossLayerReader.open(source, config, options);
    }

    @Override
    boolean claimsForeignCheckpoints() {
        return true;
    }
}
