package org.circuittracer.transcoders.reference;

import static org.circuittracer.transcoders.reference.LayerFiles.B_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.B_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.K;
import static org.circuittracer.transcoders.reference.LayerFiles.PER_LAYER_THRESHOLD;
import static org.circuittracer.transcoders.reference.LayerFiles.W_DEC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_ENC;
import static org.circuittracer.transcoders.reference.LayerFiles.W_SKIP;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.hub.HubCache;
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

/** Reads per-layer transcoders ({@code model_kind: transcoder_set}): one safetensors file per layer. */
final class PerLayerReader {

    private PerLayerReader() {
    }

    static TranscoderDictionary open(DictionarySource source, ReferenceConfig config, ReferenceOptions options) {
        List<Path> paths = config.transcoders().isEmpty()
                ? LayerFiles.numberedFiles(source.directory(), LayerFiles.PER_LAYER_PREFIX)
                : listedFiles(source.directory(), config.transcoders());
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<SafetensorsFile> files = new ArrayList<>();
            for (Path path : paths) {
                SafetensorsFile file = LayerFiles.open(path, opened);
                refuseGemmaScope2(file);
                LayerFiles.checkTensors(file, LayerFiles.shapes(W_ENC, "[F, d]", B_ENC, "[F]", W_DEC, "[F, d]",
                        B_DEC, "[d]"), LayerFiles.shapes(PER_LAYER_THRESHOLD, "[F]", W_SKIP, "[d, d]"), Set.of(K),
                        false);
                files.add(file);
            }
            boolean thresholds = sameOnEveryLayer(files, PER_LAYER_THRESHOLD);
            boolean skip = sameOnEveryLayer(files, W_SKIP);
            OptionalInt fileK = sameOnEveryLayer(files, K) ? OptionalInt.of(sameK(files)) : OptionalInt.empty();
            // As the reference: an explicit activation wins; otherwise thresholds select JumpReLU (see Activations).
            ActivationFunction activation = Activations.choose(source.directory(), config, options, fileK, thresholds,
                    files.get(0).path().toString());
            boolean jump = activation instanceof ActivationFunction.JumpRelu;
            ReferenceConfig saved = activation instanceof ActivationFunction.TopK ? config.withActivation(activation)
                    : config;
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
                    Optional.of(target -> ReferenceFormatWriter.writePerLayer(target, saved,
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

    /**
     * GemmaScope 2 transcoders ({@code params.safetensors} with {@code w_enc [d, F]}, {@code w_dec}, {@code threshold},
     * {@code affine_skip_connection}), which the {@code hf://} lists of {@code mwhanna/gemma-scope-2-*} name and the
     * reference converts with its own loader, are another layout.
     */
    private static void refuseGemmaScope2(SafetensorsFile file) {
        if (file.contains("w_enc") && file.contains("w_dec") && !file.contains(W_ENC)) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "unsupported format: "
                    + file.path() + " is a GemmaScope 2 transcoder (w_enc, w_dec, threshold), which circuit-tracer's "
                    + "reference format does not read; open a directory of its per-layer folders (params.safetensors + "
                    + "config.json, as Google ships them) with the gemma-scope-2 format instead.");
        }
    }

    /** The {@code k} of every layer file, which must be the same. */
    private static int sameK(List<SafetensorsFile> files) {
        int k = LayerFiles.scalarK(files.get(0), K);
        for (SafetensorsFile file : files) {
            int other = LayerFiles.scalarK(file, K);
            if (other != k) {
                throw LayerFiles.malformed(file, "k is " + other + " but " + files.get(0).path().getFileName()
                        + " has k = " + k + "; every layer of a set has the same k.");
            }
        }
        return k;
    }

    /**
     * The {@code transcoders:} entries as local files: paths relative to the directory or absolute, and
     * {@code hf://} entries found in the local Hugging Face cache ({@link RemoteEntries}).
     */
    private static List<Path> listedFiles(Path directory, List<String> entries) {
        Path configFile = directory.resolve(ReferenceConfig.FILE_NAME);
        List<Path> paths = new ArrayList<>();
        List<RemoteEntries.Remote> notCached = new ArrayList<>();
        HubCache cache = null;
        for (int layer = 0; layer < entries.size(); layer++) {
            String entry = entries.get(layer);
            String where = configFile + ": transcoders[" + layer + "] = '" + entry + "'";
            if (!RemoteEntries.pathPart(entry).endsWith(LayerFiles.SUFFIX)) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is not a safetensors file; "
                        + "the reference format lists layer_{i}-style .safetensors files (GemmaScope .npz sets need "
                        + "their own format).");
            }
            if (RemoteEntries.isUri(entry)) {
                RemoteEntries.Remote remote = RemoteEntries.parse(configFile, layer, entry);
                cache = cache != null ? cache : HubCache.fromEnvironment();
                Optional<Path> local = RemoteEntries.locate(cache, remote);
                local.ifPresentOrElse(paths::add, () -> notCached.add(remote));
                continue;
            }
            Path path = directory.resolve(entry);
            if (!Files.isRegularFile(path)) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, where + ", but " + path
                        + " does not exist.");
            }
            paths.add(path);
        }
        if (!notCached.isEmpty()) {
            throw RemoteEntries.notCached(configFile, cache, notCached, entries.size());
        }
        return paths;
    }
}
