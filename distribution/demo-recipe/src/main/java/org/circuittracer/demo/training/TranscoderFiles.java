package org.circuittracer.demo.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter.CrossLayerTensors;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter.PerLayerTensors;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter;
import org.circuittracer.transcoders.reference.Tensor;

/** Writes trained transcoders in the reference's on-disk layout, so the ordinary loaders read them. */
public final class TranscoderFiles {

    private TranscoderFiles() {
    }

    /**
     * Writes {@code weights} into {@code directory} (which must not hold a dictionary yet). The config names no
     * {@code scan}: a local set's scan is its directory's absolute path wherever it is opened, which makes the
     * reference viewer load feature examples from the serving server instead of from Hugging Face.
     */
    public static void write(Path directory, TranscoderTrainer.Weights weights, DType dtype) {
        int d = weights.width();
        int f = weights.features();
        ModelKind kind = weights.crossLayer() ? ModelKind.CROSS_LAYER_TRANSCODER : ModelKind.TRANSCODER_SET;
        ReferenceConfig config = new ReferenceConfig(kind, SiteKind.MLP_IN, SiteKind.MLP_OUT_RAW,
                Optional.of("circuit-tracer/demo-model"), List.of(), Optional.of(new ActivationFunction.Relu()),
                Optional.empty(), Optional.empty());
        if (weights.crossLayer()) {
            List<CrossLayerTensors> layers = new ArrayList<>();
            for (int l = 0; l < weights.layers(); l++) {
                layers.add(new CrossLayerTensors(
                        Tensor.floats(dtype, new long[] {f, d}, weights.encoder().get(l)),
                        Tensor.floats(dtype, new long[] {f}, weights.encoderBias().get(l)),
                        Tensor.floats(dtype, new long[] {d}, weights.decoderBias().get(l)),
                        Optional.empty(),
                        Tensor.floats(dtype, new long[] {f, weights.outputs(l), d}, weights.decoder().get(l))));
            }
            ReferenceFormatWriter.writeCrossLayer(directory, config, layers);
        } else {
            List<PerLayerTensors> layers = new ArrayList<>();
            for (int l = 0; l < weights.layers(); l++) {
                layers.add(new PerLayerTensors(
                        Tensor.floats(dtype, new long[] {f, d}, weights.encoder().get(l)),
                        Tensor.floats(dtype, new long[] {f}, weights.encoderBias().get(l)),
                        Tensor.floats(dtype, new long[] {f, d}, weights.decoder().get(l)),
                        Tensor.floats(dtype, new long[] {d}, weights.decoderBias().get(l)),
                        Optional.empty(), Optional.empty()));
            }
            ReferenceFormatWriter.writePerLayer(directory, config, layers);
        }
    }
}
