package org.circuittracer.transcoders.sparsify;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.JsonFiles;
import org.circuittracer.transcoders.common.Layers;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.common.Resources;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TensorChecks;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;

/**
 * Reads a sparsify checkpoint of transcoders: one sub-directory per hook point with {@code cfg.json} and
 * {@code sae.safetensors} holding {@code encoder.weight [F, d]}, {@code encoder.bias [F]}, {@code W_dec [F, d]},
 * {@code b_dec [d]} and, with {@code skip_connection}, {@code W_skip [d, d]} applied as {@code x·W_skipᵀ}. Other files
 * (optimizer and scheduler states) are ignored; the training run's {@code config.json} beside the hook point
 * directories is read when a {@code cfg.json} predates sparsify's {@code transcode} field (see
 * {@link SparsifyTranscoder}). Lazy decoder and encoder as for the reference format.
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
            List<Path> seeded = Layers.subdirectories(directory, sub -> Layers.anySubdirectoryHolds(sub,
                    SparsifyTranscoder.CONFIG, SparsifyTranscoder.WEIGHTS));
            if (!seeded.isEmpty()) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, directory + " holds sparsify "
                        + "coders one level down (" + seeded.get(0).getFileName() + "/…/" + SparsifyTranscoder.CONFIG
                        + "), as sparsify writes a run with several init_seeds (layers.3.mlp/seed0, …/seed1) or "
                        + "save_best's per-hook-point checkpoints (best/layers.3.mlp/layers.3.mlp); a dictionary "
                        + "has one transcoder per layer: make a directory with one entry per hook point "
                        + "pointing at the seed you want (symbolic links work), copy " + SparsifyTranscoder.RUN_CONFIG
                        + " beside them, and open that.");
            }
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, directory + " holds no sparsify "
                    + "transcoders: expected one sub-directory per hook point (e.g. layers.3.mlp) with "
                    + SparsifyTranscoder.CONFIG + " and " + SparsifyTranscoder.WEIGHTS + ".");
        }
        Path runConfigFile = directory.resolve(SparsifyTranscoder.RUN_CONFIG);
        Optional<JsonFiles> runConfig = Files.isRegularFile(runConfigFile) ? Optional.of(JsonFiles.read(runConfigFile))
                : Optional.empty();
        TreeMap<Integer, SparsifyTranscoder> byLayer = new TreeMap<>();
        for (Path member : members) {
            SparsifyTranscoder transcoder = SparsifyTranscoder.read(member, options, runConfig);
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
                refuseCrossLayerTensors(file, path);
                TensorChecks.check(file, path, required, Map.of(), "d_in = " + d + ", " + f + " latents from "
                        + SparsifyTranscoder.CONFIG);
                WeightVector bias = WeightVector.read(file, "encoder.bias");
                if (layer.centresInput()) {
                    bias = centred(file, bias, WeightVector.read(file, "b_dec"));
                }
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "encoder.weight"),
                        bias, Nonlinearity.ReluTopK.function(layer.k()),
                        Optional.empty(), List.of(RowMatrix.of(file, "W_dec"))));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), layer.skip()
                        ? Optional.of(new Transcoders.Skip(RowMatrix.of(file, "W_skip"), true)) : Optional.empty()));
            }
            Transcoders spec = new Transcoders(SparsifyProvider.NAME, options.scanOr(source), first.readSite(),
                    first.writeSite(), first.width(), sources, outputs);
            return TranscoderDictionary.open(spec, source.lazyEncoder(), source.lazyDecoder(), Optional.empty(),
                    opened);
        } catch (RuntimeException e) {
            throw Resources.closeAfter(e, opened);
        }
    }

    /** Rows of the encoder read at a time when folding the input centring (a few MB). */
    private static final int FOLD_ROWS = 1024;

    /**
     * The encoder bias of a coder whose encoder centres its input, {@code h = (x − b_dec)·W_encᵀ + b_enc}, as the bias
     * of the same map without centring: {@code b_enc − W_enc·b_dec} (in double, rounded once), reading the encoder a
     * block of rows at a time.
     */
    static WeightVector centred(SafetensorsFile file, WeightVector bias, WeightVector decoderBias) {
        float[] b = bias.values();
        float[] c = decoderBias.values();
        float[] folded = new float[b.length];
        for (int start = 0; start < b.length; start += FOLD_ROWS) {
            int[] ids = IntStream.range(start, Math.min(b.length, start + FOLD_ROWS)).toArray();
            float[] rows = file.gatherRows("encoder.weight", ids);
            for (int r = 0; r < ids.length; r++) {
                double dot = 0;
                for (int j = 0; j < c.length; j++) {
                    dot += (double) rows[r * c.length + j] * c[j];
                }
                folded[start + r] = (float) (b[start + r] - dot);
            }
        }
        return new WeightVector(folded, bias.origin() + " − encoder.weight·b_dec (input centring of sparsify before "
                + "2025-02-12, folded)");
    }

    /** The tensors of the clt branch's multi-target coders, refused as an unsupported format. */
    private static void refuseCrossLayerTensors(SafetensorsFile file, Path path) {
        for (String name : file.names()) {
            if (name.startsWith("W_decs.") || name.startsWith("b_decs.") || name.startsWith("W_skips.")
                    || name.startsWith("post_enc") || name.equals("in_norm") || name.equals("out_norm")) {
                throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE,
                        SparsifyTranscoder.UNSUPPORTED_FORMAT + path + " holds " + name + ", a tensor of the clt "
                        + "branch of sparsify (cross-layer or multi-target sparse coders), an unreleased layout this "
                        + "reader does not compute; convert it to the reference CLT format first.");
            }
        }
    }
}
