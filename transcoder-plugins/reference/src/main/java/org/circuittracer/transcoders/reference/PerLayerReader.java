package org.circuittracer.transcoders.reference;

import static org.circuittracer.transcoders.reference.LayerFiles.B_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.B_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.PER_LAYER_THRESHOLD;
import static org.circuittracer.transcoders.reference.LayerFiles.W_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_SKIP;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/** Reads per-layer transcoders ({@code model_kind: transcoder_set}): one safetensors file per layer. */
final class PerLayerReader {

    private PerLayerReader() {
    }

    static TranscoderDictionary open(DictionarySource source, ReferenceConfig config) {
        List<Path> paths = config.transcoders().isEmpty()
                ? LayerFiles.numberedFiles(source.directory(), LayerFiles.PER_LAYER_PREFIX)
                : listedFiles(source.directory(), config.transcoders());
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<SafetensorsFile> files = new ArrayList<>();
            for (Path path : paths) {
                SafetensorsFile file = LayerFiles.open(path, opened);
                LayerFiles.checkTensors(file, LayerFiles.shapes(W_ENC, "[F, d]", B_ENC, "[F]", W_DEC, "[F, d]",
                        B_DEC, "[d]"), LayerFiles.shapes(PER_LAYER_THRESHOLD, "[F]", W_SKIP, "[d, d]"));
                files.add(file);
            }
            boolean thresholds = sameOnEveryLayer(files, PER_LAYER_THRESHOLD);
            boolean skip = sameOnEveryLayer(files, W_SKIP);
            // As the reference: an explicit activation wins; otherwise thresholds select JumpReLU.
            ActivationFunction activation = config.activation()
                    .orElse(thresholds ? new ActivationFunction.JumpRelu() : new ActivationFunction.Relu());
            boolean jump = activation instanceof ActivationFunction.JumpRelu;
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            for (SafetensorsFile file : files) {
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, W_ENC), WeightVector.read(file, B_ENC),
                        activation, jump ? Optional.of(WeightVector.read(file, PER_LAYER_THRESHOLD)) : Optional.empty(),
                        List.of(RowMatrix.of(file, W_DEC))));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, B_DEC),
                        skip ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, W_SKIP), true)) : Optional.empty()));
            }
            int width = Math.toIntExact(files.get(0).info(B_DEC).dim(0)); // the reference infers d from b_dec
            Transcoders spec = new Transcoders(ModelKind.TRANSCODER_SET.formatName(), ReferenceProvider.scan(source,
                    config), config.featureInputHook(), config.featureOutputHook(), width, sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(),
                    Optional.of(target -> ReferenceFormatWriter.writePerLayer(target, config,
                            files.stream().map(ReferenceFormatWriter.PerLayerTensors::of).toList())), opened);
        } catch (RuntimeException e) {
            ReferenceProvider.closeAll(opened, e);
            throw e;
        }
    }

    /** Whether every layer file has {@code tensor}; mixed sets are an error (the reference only looks at layer 0). */
    private static boolean sameOnEveryLayer(List<SafetensorsFile> files, String tensor) {
        boolean first = files.get(0).contains(tensor);
        for (SafetensorsFile file : files) {
            if (file.contains(tensor) != first) {
                throw LayerFiles.malformed(file, (first ? "has no " : "has ") + tensor + " but " + files.get(0).path()
                        .getFileName() + (first ? " has" : " has not") + "; every layer has it or none does.");
            }
        }
        return first;
    }

    /** The {@code transcoders:} entries as local files (relative to the directory). */
    private static List<Path> listedFiles(Path directory, List<String> entries) {
        List<Path> paths = new ArrayList<>();
        for (int layer = 0; layer < entries.size(); layer++) {
            String entry = entries.get(layer);
            String where = directory.resolve(ReferenceConfig.FILE_NAME) + ": transcoders[" + layer + "] = '" + entry + "'";
            if (entry.contains("://")) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is a remote reference; "
                        + "download the files and list their local paths (relative to the directory).");
            }
            if (!entry.endsWith(LayerFiles.SUFFIX)) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is not a safetensors file; "
                        + "the reference format lists layer_{i}-style .safetensors files (GemmaScope .npz sets need "
                        + "their own format).");
            }
            Path path = directory.resolve(entry);
            if (!Files.isRegularFile(path)) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, where + ", but " + path
                        + " does not exist.");
            }
            paths.add(path);
        }
        return paths;
    }
}
