package org.circuittracer.transcoders.reference;

import static org.circuittracer.transcoders.reference.LayerFiles.B_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.B_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.THRESHOLD;
import static org.circuittracer.transcoders.reference.LayerFiles.W_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.key;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/**
 * Reads a cross-layer transcoder ({@code model_kind: cross_layer_transcoder}): {@code W_enc_{i}.safetensors} with
 * {@code W_enc_i [F, d]}, {@code b_enc_i [F]}, {@code b_dec_i [d]}, optional {@code threshold_i [F]}, and
 * {@code W_dec_{i}.safetensors} with {@code W_dec_i [F, L−i, d]}. Like the reference's native loader
 * ({@code _load_state_dict} in {@code cross_layer_transcoder.py}) it reads no skip and ignores other tensors.
 */
final class CrossLayerReader {

    private CrossLayerReader() {
    }

    static TranscoderDictionary open(DictionarySource source, ReferenceConfig config, ReferenceOptions options) {
        Path directory = source.directory();
        if (!config.transcoders().isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory.resolve(ReferenceConfig.FILE_NAME)
                    + ": a cross_layer_transcoder with a transcoders list is a GemmaScope-2 transcoder, which this "
                    + "format does not read; it reads W_enc_{i}.safetensors and W_dec_{i}.safetensors (remove the list "
                    + "if the directory holds those).");
        }
        List<Path> encoderPaths = LayerFiles.numberedFiles(directory, LayerFiles.ENCODER_PREFIX);
        List<Path> decoderPaths = LayerFiles.numberedFiles(directory, LayerFiles.DECODER_PREFIX);
        int layers = encoderPaths.size();
        if (decoderPaths.size() != layers) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory + " has " + layers
                    + " encoder files (W_enc_0 …) but " + decoderPaths.size() + " decoder files (W_dec_0 …); "
                    + "every layer needs both.");
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<SafetensorsFile> encoders = new ArrayList<>();
            List<SafetensorsFile> decoders = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                SafetensorsFile encoder = LayerFiles.open(encoderPaths.get(i), opened);
                // Like the reference's loader, read the named tensors and ignore any others.
                LayerFiles.checkTensors(encoder, LayerFiles.shapes(key(W_ENC, i), "[F, d]", key(B_ENC, i), "[F]",
                        key(B_DEC, i), "[d]"), LayerFiles.shapes(key(THRESHOLD, i), "[F]"), Set.of(), true);
                SafetensorsFile decoder = LayerFiles.open(decoderPaths.get(i), opened);
                LayerFiles.checkTensors(decoder, LayerFiles.shapes(key(W_DEC, i), "[F, L−" + i + ", d]"),
                        LayerFiles.shapes(), Set.of(), true);
                encoders.add(encoder);
                decoders.add(decoder);
            }
            int width = Math.toIntExact(encoders.get(0).info(key(W_ENC, 0)).dim(1)); // the reference: F, d from W_enc_0
            boolean thresholds = encoders.get(0).contains(key(THRESHOLD, 0));
            ActivationFunction activation = Activations.choose(directory, config, options, OptionalInt.empty(),
                    thresholds, encoderPaths.get(0).toString());
            boolean jump = activation instanceof ActivationFunction.JumpRelu;
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                SafetensorsFile encoder = encoders.get(i);
                if (encoder.contains(key(THRESHOLD, i)) != thresholds) {
                    throw LayerFiles.malformed(encoder, (thresholds ? "has no " : "has ") + key(THRESHOLD, i)
                            + " but W_enc_0.safetensors " + (thresholds ? "has" : "has not") + " threshold_0; every "
                            + "layer has thresholds or none does.");
                }
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(encoder, key(W_ENC, i)),
                        WeightVector.read(encoder, key(B_ENC, i)), activation,
                        jump ? Optional.of(WeightVector.read(encoder, key(THRESHOLD, i))) : Optional.empty(),
                        decoderBlocks(decoders.get(i), i, layers, width)));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(encoder, key(B_DEC, i)), Optional.empty()));
            }
            Transcoders spec = new Transcoders(ModelKind.CROSS_LAYER_TRANSCODER.formatName(),
                    ReferenceProvider.scan(source, config), config.featureInputHook(), config.featureOutputHook(), width,
                    sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(),
                    Optional.of(target -> ReferenceFormatWriter.writeCrossLayer(target, activation instanceof
                            ActivationFunction.TopK ? config.withActivation(activation) : config, copies(encoders,
                            decoders))), opened);
        } catch (RuntimeException e) {
            ReferenceProvider.closeAll(opened, e);
            throw e;
        }
    }

    /** {@code W_dec_i [F, L−i, d]} as one {@code [F, d]} matrix per output layer {@code i + k}. */
    private static List<RowMatrix> decoderBlocks(SafetensorsFile file, int layer, int layers, int width) {
        String name = key(W_DEC, layer);
        long[] shape = file.info(name).shape();
        if (shape[1] != layers - layer || shape[2] != width) {
            throw LayerFiles.malformed(file, name + " has shape " + Arrays.toString(shape) + "; expected [F, "
                    + (layers - layer) + ", " + width + "]: layer " + layer + " writes to layers " + layer + " … "
                    + (layers - 1) + " and the width d (from W_enc_0) is " + width + ".");
        }
        List<RowMatrix> blocks = new ArrayList<>();
        for (int k = 0; k < layers - layer; k++) {
            blocks.add(RowMatrix.columns(file, name, (long) k * width, width));
        }
        return blocks;
    }

    private static List<ReferenceFormatWriter.CrossLayerTensors> copies(List<SafetensorsFile> encoders,
                                                                       List<SafetensorsFile> decoders) {
        List<ReferenceFormatWriter.CrossLayerTensors> layers = new ArrayList<>();
        for (int i = 0; i < encoders.size(); i++) {
            layers.add(ReferenceFormatWriter.CrossLayerTensors.of(encoders.get(i), decoders.get(i), i));
        }
        return layers;
    }
}
