package org.circuittracer.transcoders.saelens;

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
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.Layers;
import org.circuittracer.transcoders.common.Resources;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TensorChecks;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/**
 * Reads a set of SAELens transcoders: one sub-directory per layer, each with {@code cfg.json} and
 * {@code sae_weights.safetensors} holding {@code W_enc [d_in, d_sae]} (used as stored: it is {@code W_encᵀ}),
 * {@code b_enc [d_sae]}, {@code W_dec [d_sae, d_out]}, {@code b_dec [d_out]}, for JumpReLU {@code threshold [d_sae]}
 * (or {@code log_threshold}, exponentiated), for {@code skip_transcoder} {@code W_skip [d_out, d_in]} applied as
 * {@code x·W_skipᵀ}. Layers come from the configs, not the directory names, and must be {@code 0 … L−1} with the same
 * sites and width. Lazy decoder and encoder work as for the reference format (memory-mapped safetensors).
 */
final class SaeLensReader {

    private SaeLensReader() {
    }

    static TranscoderDictionary open(DictionarySource source) {
        Path directory = source.directory();
        FormatOptions options = FormatOptions.of(source, SaeLensProvider.NAME);
        if (Layers.holds(directory, SaeLensTranscoder.CONFIG, SaeLensTranscoder.WEIGHTS)) {
            SaeLensTranscoder one = SaeLensTranscoder.read(directory, options);
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " is a single SAELens "
                    + "transcoder (layer " + one.layer() + "); a dictionary covers every layer. Put one directory per "
                    + "layer under a common parent (symbolic links work) and open the parent.");
        }
        List<Path> members = Layers.subdirectories(directory, sub -> Files.isRegularFile(
                sub.resolve(SaeLensTranscoder.CONFIG)));
        if (members.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " holds no SAELens "
                    + "transcoders: expected one sub-directory per layer with " + SaeLensTranscoder.CONFIG + " and "
                    + SaeLensTranscoder.WEIGHTS + ".");
        }
        TreeMap<Integer, SaeLensTranscoder> byLayer = new TreeMap<>();
        for (Path member : members) {
            SaeLensTranscoder transcoder = SaeLensTranscoder.read(member, options);
            Layers.put(byLayer, transcoder.layer(), transcoder, Optional.ofNullable(byLayer.get(transcoder.layer()))
                    .map(SaeLensTranscoder::directory).orElse(null), member, "SAELens transcoder");
        }
        List<SaeLensTranscoder> layers = Layers.contiguous(byLayer, "SAELens transcoder", directory);
        SaeLensTranscoder first = layers.get(0);
        for (SaeLensTranscoder layer : layers) {
            if (layer.readSite() != first.readSite() || layer.writeSite() != first.writeSite()
                    || layer.width() != first.width()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, layer.directory() + " reads "
                        + layer.readSite().hookName() + " and writes " + layer.writeSite().hookName() + " with width "
                        + layer.width() + ", but " + first.directory() + " reads " + first.readSite().hookName()
                        + " and writes " + first.writeSite().hookName() + " with width " + first.width()
                        + "; every layer of a dictionary reads and writes the same sites.");
            }
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            for (SaeLensTranscoder layer : layers) {
                Path path = layer.directory().resolve(SaeLensTranscoder.WEIGHTS);
                SafetensorsFile file = SafetensorsFile.open(path);
                opened.add(file);
                readWeights(layer, file, path, sources, outputs);
            }
            Transcoders spec = new Transcoders(SaeLensProvider.NAME, options.scanOr(source), first.readSite(),
                    first.writeSite(), first.width(), sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(), Optional.empty(),
                    opened);
        } catch (RuntimeException e) {
            throw Resources.closeAfter(e, opened);
        }
    }

    private static void readWeights(SaeLensTranscoder layer, SafetensorsFile file, Path path,
                                    List<Transcoders.SourceLayer> sources, List<Transcoders.OutputLayer> outputs) {
        long d = layer.width();
        long f = layer.features();
        boolean jump = layer.activation() instanceof ActivationFunction.JumpRelu;
        Map<String, long[]> required = new LinkedHashMap<>();
        required.put("W_enc", new long[] {d, f});
        required.put("b_enc", new long[] {f});
        required.put("W_dec", new long[] {f, d});
        required.put("b_dec", new long[] {d});
        if (layer.skip()) {
            required.put("W_skip", new long[] {d, d});
        }
        String thresholdName = "threshold";
        if (jump) {
            thresholdName = file.contains("log_threshold") && !file.contains("threshold") ? "log_threshold"
                    : "threshold";
            required.put(thresholdName, new long[] {f});
        }
        TensorChecks.check(file, path, required, Map.of(), "d_in = d_out = " + d + ", d_sae = " + f + " from "
                + SaeLensTranscoder.CONFIG);
        Optional<WeightVector> thresholds = Optional.empty();
        if (jump) {
            WeightVector stored = WeightVector.read(file, thresholdName);
            float[] theta = stored.values().clone();
            for (int i = 0; i < theta.length; i++) {
                // SAELens computes ReLU(h)·[h > θ], which is h·[h > max(θ, 0)]; log thresholds are exponentiated
                theta[i] = thresholdName.equals("log_threshold") ? (float) Math.exp(theta[i])
                        : theta[i] < 0 ? 0f : theta[i];
            }
            thresholds = Optional.of(new WeightVector(theta, stored.origin()));
        }
        sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "W_enc"), WeightVector.read(file, "b_enc"),
                layer.activation(), thresholds, List.of(RowMatrix.of(file, "W_dec")), true));
        outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), layer.skip()
                ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, "W_skip"), true)) : Optional.empty()));
    }
}
