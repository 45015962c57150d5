package org.circuittracer.transcoders.reference;

import static org.circuittracer.transcoders.reference.LayerFiles.B_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.B_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.PER_LAYER_THRESHOLD;
import static org.circuittracer.transcoders.reference.LayerFiles.THRESHOLD;
import static org.circuittracer.transcoders.reference.LayerFiles.W_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_SKIP;
import static org.circuittracer.transcoders.reference.LayerFiles.key;
import static org.circuittracer.transcoders.reference.LayerFiles.numbered;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.safetensors.TensorSource;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * Writes transcoders in the reference layout: the layers' safetensors files first, {@code config.yaml} last (its
 * presence marks a complete directory, as in the reference's cache). Files are written atomically; data buffers are
 * streamed, not copied. Tensors are written as given: the reader checks shapes when the directory is opened.
 */
public final class ReferenceFormatWriter {

    /**
     * The tensors of one per-layer file, {@code layer_{i}.safetensors}.
     *
     * @param wEnc      {@code W_enc [F, d]}
     * @param bEnc      {@code b_enc [F]}
     * @param wDec      {@code W_dec [F, d]}
     * @param bDec      {@code b_dec [d]}
     * @param threshold {@code activation_function.threshold [F]}: JumpReLU
     * @param wSkip     {@code W_skip [d, d]}, applied as {@code x·W_skipᵀ}
     */
    public record PerLayerTensors(Tensor wEnc, Tensor bEnc, Tensor wDec, Tensor bDec, Optional<Tensor> threshold,
                                  Optional<Tensor> wSkip) {
        public PerLayerTensors {
            Objects.requireNonNull(wEnc, W_ENC);
            Objects.requireNonNull(bEnc, B_ENC);
            Objects.requireNonNull(wDec, W_DEC);
            Objects.requireNonNull(bDec, B_DEC);
            Objects.requireNonNull(threshold, "threshold");
            Objects.requireNonNull(wSkip, W_SKIP);
        }

        /** The tensors of an existing layer file, unchanged. */
        public static PerLayerTensors of(TensorSource file) {
            return new PerLayerTensors(Tensor.of(file, W_ENC), Tensor.of(file, B_ENC), Tensor.of(file, W_DEC),
                    Tensor.of(file, B_DEC), optional(file, PER_LAYER_THRESHOLD), optional(file, W_SKIP));
        }
    }

    /**
     * The tensors of source layer {@code i} of a cross-layer transcoder.
     *
     * @param wEnc      {@code W_enc_i [F, d]}
     * @param bEnc      {@code b_enc_i [F]}
     * @param bDec      {@code b_dec_i [d]}, the decoder bias of output layer {@code i}
     * @param threshold {@code threshold_i [F]}: JumpReLU
     * @param wDec      {@code W_dec_i [F, L−i, d]}
     */
    public record CrossLayerTensors(Tensor wEnc, Tensor bEnc, Tensor bDec, Optional<Tensor> threshold, Tensor wDec) {
        public CrossLayerTensors {
            Objects.requireNonNull(wEnc, W_ENC);
            Objects.requireNonNull(bEnc, B_ENC);
            Objects.requireNonNull(bDec, B_DEC);
            Objects.requireNonNull(threshold, "threshold");
            Objects.requireNonNull(wDec, W_DEC);
        }

        /** The tensors of layer {@code layer} of existing files, unchanged. */
        public static CrossLayerTensors of(TensorSource encoderFile, TensorSource decoderFile, int layer) {
            return new CrossLayerTensors(Tensor.of(encoderFile, key(W_ENC, layer)),
                    Tensor.of(encoderFile, key(B_ENC, layer)), Tensor.of(encoderFile, key(B_DEC, layer)),
                    optional(encoderFile, key(THRESHOLD, layer)), Tensor.of(decoderFile, key(W_DEC, layer)));
        }
    }

    private ReferenceFormatWriter() {
    }

    /** Writes {@code layer_{i}.safetensors} for every layer and then {@code config.yaml}. */
    public static void writePerLayer(Path directory, ReferenceConfig config, List<PerLayerTensors> layers) {
        requireKind(config, ModelKind.TRANSCODER_SET);
        prepare(directory);
        for (int i = 0; i < layers.size(); i++) {
            PerLayerTensors t = layers.get(i);
            SafetensorsWriter file = newFile();
            add(file, W_ENC, t.wEnc());
            add(file, B_ENC, t.bEnc());
            add(file, W_DEC, t.wDec());
            add(file, B_DEC, t.bDec());
            t.threshold().ifPresent(x -> add(file, PER_LAYER_THRESHOLD, x));
            t.wSkip().ifPresent(x -> add(file, W_SKIP, x));
            file.write(directory.resolve(numbered(LayerFiles.PER_LAYER_PREFIX, i)));
        }
        writeConfig(directory, config);
    }

    /** Writes {@code W_enc_{i}.safetensors} and {@code W_dec_{i}.safetensors} for every layer, then {@code config.yaml}. */
    public static void writeCrossLayer(Path directory, ReferenceConfig config, List<CrossLayerTensors> layers) {
        requireKind(config, ModelKind.CROSS_LAYER_TRANSCODER);
        prepare(directory);
        for (int i = 0; i < layers.size(); i++) {
            CrossLayerTensors t = layers.get(i);
            SafetensorsWriter encoder = newFile();
            add(encoder, key(W_ENC, i), t.wEnc());
            add(encoder, key(B_ENC, i), t.bEnc());
            add(encoder, key(B_DEC, i), t.bDec());
            int layer = i;
            t.threshold().ifPresent(x -> add(encoder, key(THRESHOLD, layer), x));
            encoder.write(directory.resolve(numbered(LayerFiles.ENCODER_PREFIX, i)));
            SafetensorsWriter decoder = newFile();
            add(decoder, key(W_DEC, i), t.wDec());
            decoder.write(directory.resolve(numbered(LayerFiles.DECODER_PREFIX, i)));
        }
        writeConfig(directory, config);
    }

    private static Optional<Tensor> optional(TensorSource file, String name) {
        return file.contains(name) ? Optional.of(Tensor.of(file, name)) : Optional.empty();
    }

    private static void requireKind(ReferenceConfig config, ModelKind kind) {
        if (config.modelKind() != kind) {
            throw new IllegalArgumentException("config has model_kind " + config.modelKind().yamlName() + ", expected "
                    + kind.yamlName());
        }
    }

    /** Creates the directory; refuses one that already holds a dictionary (its files may be open and mapped). */
    private static void prepare(Path directory) {
        if (Files.exists(directory.resolve(ReferenceConfig.FILE_NAME))) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " already holds a "
                    + "dictionary (" + ReferenceConfig.FILE_NAME + "); write into a new or empty directory.");
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot create " + directory + ": " + e, e);
        }
    }

    private static SafetensorsWriter newFile() {
        // The metadata the Python library writes, so that torch-based tools read the files as PyTorch tensors.
        return new SafetensorsWriter().metadata("format", "pt");
    }

    private static void add(SafetensorsWriter file, String name, Tensor tensor) {
        file.add(name, tensor.dtype(), tensor.shape(), tensor.data());
    }

    private static void writeConfig(Path directory, ReferenceConfig config) {
        Path target = directory.resolve(ReferenceConfig.FILE_NAME);
        Path temporary = directory.resolve("." + ReferenceConfig.FILE_NAME + ".tmp");
        try {
            Files.writeString(temporary, config.withStandardFileNames().toYaml(), StandardCharsets.UTF_8);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + target + ": " + e, e);
        }
    }
}
