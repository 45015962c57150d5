package org.circuittracer.transcoders.sparsify;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;
import org.circuittracer.transcoders.community.FormatOptions;
import org.circuittracer.transcoders.community.Layers;
import org.circuittracer.transcoders.community.TensorChecks;

/**
 * Reads a sparsify checkpoint of transcoders: one sub-directory per hook point with {@code cfg.json} and
 * {@code sae.safetensors} holding {@code encoder.weight [F, d]}, {@code encoder.bias [F]}, {@code W_dec [F, d]},
 * {@code b_dec [d]} and, with {@code skip_connection}, {@code W_skip [d, d]} applied as {@code x·W_skipᵀ}. Other files
 * (the training {@code config.json}) are ignored. Lazy decoder and encoder as for the reference format.
 */
final class SparsifyReader {

    private SparsifyReader() {
    }

    static TranscoderDictionary open(DictionarySource source) {
        Path directory = source.directory();
        FormatOptions options = FormatOptions.of(source, SparsifyProvider.NAME);
        List<Path> members = Layers.subdirectories(directory, sub -> Files.isRegularFile(
                sub.resolve(SparsifyTranscoder.CONFIG)));
        if (members.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " holds no sparsify "
                    + "transcoders: expected one sub-directory per hook point (e.g. layers.3.mlp) with "
                    + SparsifyTranscoder.CONFIG + " and " + SparsifyTranscoder.WEIGHTS + ".");
        }
        TreeMap<Integer, SparsifyTranscoder> byLayer = new TreeMap<>();
        for (Path member : members) {
            SparsifyTranscoder transcoder = SparsifyTranscoder.read(member, options);
            Layers.put(byLayer, transcoder.layer(), transcoder, Optional.ofNullable(byLayer.get(transcoder.layer()))
                    .map(SparsifyTranscoder::directory).orElse(null), member, "sparsify transcoder");
        }
        List<SparsifyTranscoder> layers = Layers.contiguous(byLayer, "sparsify transcoder", directory);
        SparsifyTranscoder first = layers.get(0);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            for (SparsifyTranscoder layer : layers) {
                if (layer.width() != first.width()) {
                    throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, layer.directory()
                            + " has d_in = " + layer.width() + " but " + first.directory() + " has " + first.width()
                            + "; all layers share the model width.");
                }
                Path path = layer.directory().resolve(SparsifyTranscoder.WEIGHTS);
                SafetensorsFile file = SafetensorsFile.open(path);
                opened.add(file);
                long d = layer.width();
                long f = layer.features();
                Map<String, long[]> required = new LinkedHashMap<>();
                required.put("encoder.weight", new long[] {f, d});
                required.put("encoder.bias", new long[] {f});
                required.put("W_dec", new long[] {f, d});
                required.put("b_dec", new long[] {d});
                if (layer.skip()) {
                    required.put("W_skip", new long[] {d, d});
                }
                TensorChecks.check(file, path, required, Map.of(), "d_in = " + d + ", " + f + " latents from "
                        + SparsifyTranscoder.CONFIG);
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "encoder.weight"),
                        WeightVector.read(file, "encoder.bias"), Nonlinearity.ReluTopK.function(layer.k()),
                        Optional.empty(), List.of(RowMatrix.of(file, "W_dec"))));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), layer.skip()
                        ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, "W_skip"), true)) : Optional.empty()));
            }
            Transcoders spec = new Transcoders(SparsifyProvider.NAME, options.scanOr(source), first.readSite(),
                    first.writeSite(), first.width(), sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(), Optional.empty(),
                    opened);
        } catch (RuntimeException e) {
            for (AutoCloseable resource : opened) {
                try {
                    resource.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }
}
