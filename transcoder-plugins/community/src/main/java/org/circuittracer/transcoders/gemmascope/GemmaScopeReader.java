package org.circuittracer.transcoders.gemmascope;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.common.Resources;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TensorChecks;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;
import org.circuittracer.transcoders.numpy.NpzArchive;

/**
 * Reads GemmaScope transcoders: per layer a {@code params.npz} with {@code W_enc [d, F]} (used as stored: it is
 * {@code W_encᵀ}), {@code W_dec [F, d]}, {@code b_enc [F]}, {@code b_dec [d]} and {@code threshold [F]} (JumpReLU).
 * Weights are loaded whole into memory, as the reference does for this format: no lazy encoder or decoder (convert the
 * set with the circuit-tracer-dictionary format's writer for lazy loading).
 */
final class GemmaScopeReader {

    /** GemmaScope transcoders read the un-gained pre-MLP norm output and write the MLP block's output (§2.1). */
    static final SiteKind DEFAULT_READ_SITE = SiteKind.LN2_NORMALIZED;
    static final SiteKind DEFAULT_WRITE_SITE = SiteKind.MLP_OUT;

    private GemmaScopeReader() {
    }

    static TranscoderDictionary open(DictionarySource source) {
        FormatOptions options = FormatOptions.of(source, GemmaScopeNpzProvider.NAME);
        GemmaScopeLayout layout = GemmaScopeLayout.find(source.directory());
        SiteKind readSite;
        SiteKind writeSite;
        String scan;
        if (layout.config().isPresent()) {
            ReferenceConfig config = layout.config().get();
            if (options.readSite().isPresent() || options.writeSite().isPresent()) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, source.directory().resolve(
                        ReferenceConfig.FILE_NAME) + " sets the hooks (feature_input_hook, feature_output_hook); "
                        + "edit it instead of passing readSite or writeSite.");
            }
            // "jumprelu" only names what the thresholds do; any other activation contradicts them
            if (config.activationName().filter(name -> !name.equals("jumprelu")).isPresent()) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, source.directory().resolve(
                        ReferenceConfig.FILE_NAME) + ": activation is " + config.activationName().get() + ", but "
                        + "GemmaScope transcoders are JumpReLU (their threshold); remove it.");
            }
            readSite = config.featureInputHook();
            writeSite = config.featureOutputHook();
            scan = options.scan().or(config::scan).orElseGet(() -> Transcoders.localScan(source.directory()));
        } else {
            readSite = options.readSite().orElse(DEFAULT_READ_SITE);
            writeSite = options.writeSite().orElse(DEFAULT_WRITE_SITE);
            scan = options.scanOr(source);
        }
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            List<Transcoders.SourceLayer> sources = new ArrayList<>();
            List<Transcoders.OutputLayer> outputs = new ArrayList<>();
            int width = -1;
            for (Path path : layout.files()) {
                NpzArchive npz = NpzArchive.open(path);
                opened.add(npz);
                int d = dimension(npz, "b_dec", path);
                int features = dimension(npz, "b_enc", path);
                if (width >= 0 && d != width) {
                    throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, path + " has width d = " + d
                            + " (b_dec) but " + layout.files().get(0) + " has " + width + "; all layers share d.");
                }
                width = d;
                Map<String, long[]> required = new LinkedHashMap<>();
                required.put("W_enc", new long[] {d, features});
                required.put("W_dec", new long[] {features, d});
                required.put("b_enc", new long[] {features});
                required.put("b_dec", new long[] {d});
                required.put("threshold", new long[] {features});
                TensorChecks.check(npz, path, required, Map.of(), "d = " + d + " from b_dec, F = " + features
                        + " from b_enc");
                sources.add(new Transcoders.SourceLayer(RowMatrix.of(npz, "W_enc"), WeightVector.read(npz, "b_enc"),
                        new ActivationFunction.JumpRelu(), Optional.of(WeightVector.read(npz, "threshold")),
                        List.of(RowMatrix.of(npz, "W_dec")), true));
                outputs.add(new Transcoders.OutputLayer(WeightVector.read(npz, "b_dec"), Optional.empty()));
            }
            Transcoders spec = new Transcoders(GemmaScopeNpzProvider.NAME, scan, readSite, writeSite, width, sources,
                    outputs);
            // Everything is in memory already: the dictionary's tensors alias the archives' buffers (one copy).
            return TranscoderDictionary.open(spec, false, false, Optional.empty(), opened);
        } catch (RuntimeException e) {
            throw Resources.closeAfter(e, opened);
        }
    }

    /** The length of a vector that fixes a dimension. */
    private static int dimension(NpzArchive npz, String vector, Path path) {
        if (!npz.contains(vector) || npz.info(vector).rank() != 1) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, path + " has "
                    + (npz.contains(vector) ? vector + " of shape " + npz.info(vector).shapeString() : "no " + vector)
                    + "; a GemmaScope params.npz holds W_enc [d, F], W_dec [F, d], b_enc [F], b_dec [d] and "
                    + "threshold [F].");
        }
        return Math.toIntExact(npz.info(vector).dim(0));
    }
}
