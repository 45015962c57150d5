package org.circuittracer.transcoders.common;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.site.SiteKind;

/**
 * The weights of a transcoder set as a format read them, before anything is loaded: per-layer transcoders (each
 * source layer has one decoder, into its own layer) or a cross-layer transcoder (source layer ℓ has decoders into
 * ℓ … L−1). The constructor checks that every shape agrees (docs/reference/algorithm.md §2.2), naming the offending file and tensor.
 *
 * @param formatName the provider name
 * @param scan       identifier for feature visualisations
 * @param readSite   the input site of every layer
 * @param writeSite  the output site of every layer
 * @param width      the model width {@code d}
 * @param sources    one per layer {@code 0 … L−1}
 * @param outputs    one per layer {@code 0 … L−1}
 */
public record Transcoders(String formatName, String scan, SiteKind readSite, SiteKind writeSite, int width,
                          List<SourceLayer> sources, List<OutputLayer> outputs) {

    /** The sites a transcoder may read (docs/reference/algorithm.md §2.1). */
    public static final Set<SiteKind> INPUT_SITES = Set.of(SiteKind.RESID_MID, SiteKind.LN2_NORMALIZED, SiteKind.MLP_IN);
    /** The sites a transcoder may write. */
    public static final Set<SiteKind> OUTPUT_SITES = Set.of(SiteKind.MLP_OUT_RAW, SiteKind.MLP_OUT);

    /**
     * One source layer: {@code a = σ(x·W_encᵀ + b_enc)}.
     *
     * @param encoder           {@code W_enc [F, d]}, row f = encoder vector of feature f; or, when
     *                          {@code encoderTransposed}, {@code W_encᵀ [d, F]}, column f = encoder vector of feature
     *                          f (the orientation of SAELens and GemmaScope, used without a transposed copy)
     * @param encoderBias       {@code b_enc [F]}
     * @param activation        σ; {@link ActivationFunction.JumpRelu} needs {@code thresholds}; ReLU after TopK is
     *                          {@link Nonlinearity.ReluTopK#function(int)}
     * @param thresholds        {@code θ [F]} for JumpReLU, otherwise empty
     * @param decoders          {@code decoders.get(k)}: {@code [F, d]}, what each feature writes into output layer
     *                          ℓ + k
     * @param encoderTransposed whether {@code encoder} is stored {@code [d, F]}
     */
    public record SourceLayer(RowMatrix encoder, WeightVector encoderBias, ActivationFunction activation,
                              Optional<WeightVector> thresholds, List<RowMatrix> decoders, boolean encoderTransposed) {
        public SourceLayer {
            Objects.requireNonNull(encoder, "encoder");
            Objects.requireNonNull(encoderBias, "encoderBias");
            Objects.requireNonNull(activation, "activation");
            Objects.requireNonNull(thresholds, "thresholds");
            decoders = List.copyOf(decoders);
        }

        /** A source layer whose encoder is stored {@code [F, d]}. */
        public SourceLayer(RowMatrix encoder, WeightVector encoderBias, ActivationFunction activation,
                           Optional<WeightVector> thresholds, List<RowMatrix> decoders) {
            this(encoder, encoderBias, activation, thresholds, decoders, false);
        }

        /** {@code F}. */
        public int features() {
            return encoderBias.length();
        }
    }

    /**
     * One output layer: what is added to the feature contributions.
     *
     * @param decoderBias {@code b_dec [d]}
     * @param skip        the skip connection, if any
     */
    public record OutputLayer(WeightVector decoderBias, Optional<Skip> skip) {
        public OutputLayer {
            Objects.requireNonNull(decoderBias, "decoderBias");
            Objects.requireNonNull(skip, "skip");
        }
    }

    /**
     * A skip connection {@code [d, d]}: {@code skip(x) = x·Wᵀ} when {@code transposed} (the per-layer transcoder's
     * {@code W_skip}, stored output × input), else {@code x·W} (the cross-layer transcoder's orientation).
     */
    public record Skip(RowMatrix weight, boolean transposed) {
        public Skip {
            Objects.requireNonNull(weight, "weight");
        }
    }

    public Transcoders {
        Objects.requireNonNull(formatName, "formatName");
        Objects.requireNonNull(scan, "scan");
        if (!INPUT_SITES.contains(readSite) || !OUTPUT_SITES.contains(writeSite)) {
            throw new IllegalArgumentException("transcoders read one of " + INPUT_SITES + " and write one of "
                    + OUTPUT_SITES + ", not " + readSite + " → " + writeSite);
        }
        sources = List.copyOf(sources);
        outputs = List.copyOf(outputs);
        if (sources.isEmpty() || sources.size() != outputs.size()) {
            throw new IllegalArgumentException("need one source and one output per layer, got " + sources.size()
                    + " and " + outputs.size());
        }
        for (int layer = 0; layer < sources.size(); layer++) {
            checkSource(layer, sources.get(layer), width, sources.size());
            checkOutput(outputs.get(layer), width);
        }
    }

    /** {@code L}. */
    public int layers() {
        return sources.size();
    }

    /**
     * The scan of a dictionary whose files name none: its directory's absolute, normalised path, as the reference
     * names locally saved transcoders. A graph with such a scan makes the reference viewer load feature examples from
     * the serving server's {@code /features/} route instead of from Hugging Face
     * (docs/reference/graph-format.md §4.3).
     */
    public static String localScan(Path directory) {
        return directory.toAbsolutePath().normalize().toString();
    }

    private static void checkSource(int layer, SourceLayer source, int width, int layers) {
        int features = source.features();
        String why = "the encoder bias has " + features + " features";
        if (source.encoderTransposed()) {
            checkMatrix(source.encoder(), width, features, why, width);
        } else {
            checkMatrix(source.encoder(), features, width, why, width);
        }
        if (source.activation() instanceof ActivationFunction.JumpRelu) {
            WeightVector theta = source.thresholds().orElseThrow(() -> new IllegalArgumentException(
                    "layer " + layer + ": JumpReLU without thresholds"));
            checkLength(theta, features, "features (as the encoder bias)");
            for (int f = 0; f < features; f++) {
                if (Float.isNaN(theta.values()[f])) {
                    throw malformed(theta.origin() + ": the threshold of feature " + f + " is NaN; every JumpReLU "
                            + "threshold must be a number (use +Infinity for a feature that never fires).");
                }
            }
        } else if (source.thresholds().isPresent()) {
            throw new IllegalArgumentException("layer " + layer + ": thresholds given for " + source.activation());
        }
        int k = source.activation() instanceof ActivationFunction.TopK topK ? topK.k()
                : Nonlinearity.ReluTopK.of(source.activation()).orElse(0);
        if (k > features) {
            throw malformed(source.encoderBias().origin() + ": TopK with k = " + k + " needs at least k "
                    + "features, but layer " + layer + " has " + features + "; lower k.");
        }
        if (source.decoders().isEmpty() || layer + source.decoders().size() > layers) {
            throw new IllegalArgumentException("layer " + layer + " has " + source.decoders().size()
                    + " decoders; it may write to layers " + layer + " … " + (layers - 1));
        }
        for (RowMatrix decoder : source.decoders()) {
            checkMatrix(decoder, features, width, "the encoder of layer " + layer + " has " + features + " features",
                    width);
        }
    }

    private static void checkOutput(OutputLayer output, int width) {
        checkLength(output.decoderBias(), width, "elements (the model width d)");
        output.skip().ifPresent(skip -> checkMatrix(skip.weight(), width, width, "a skip connection is d × d", width));
    }

    private static void checkMatrix(RowMatrix matrix, int rows, int cols, String why, int width) {
        if (matrix.rows() != rows || matrix.cols() != cols) {
            throw malformed(matrix.describe() + " should be a [" + rows + ", " + cols + "] matrix: " + why
                    + " and the model width d is " + width + ".");
        }
    }

    private static void checkLength(WeightVector vector, int expected, String what) {
        if (vector.length() != expected) {
            throw malformed(vector.origin() + " has " + vector.length() + " elements, expected " + expected + " "
                    + what + ".");
        }
    }

    private static CircuitTracerException malformed(String message) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, message);
    }
}
