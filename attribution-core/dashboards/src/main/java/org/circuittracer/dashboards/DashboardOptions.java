package org.circuittracer.dashboards;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * What {@link FeatureDashboards#collect} computes. Start from {@link #defaults()} and change what you need.
 *
 * <p>Memory: every feature that fires keeps at most {@code topExamples + 2 · quantileBands · examplesPerBand} example
 * windows of {@code contextBefore + 1 + contextAfter} tokens (8 bytes a token) and {@code quantileSampleSize}
 * activations (24 bytes each), whatever the corpus size; {@link CollectedDashboards#retainedBytes()} reports it.
 *
 * @param topExamples        contexts in "Top activations": the corpus sequences with the largest peak activation
 * @param contextBefore      tokens shown before the token of interest
 * @param contextAfter       tokens shown after it
 * @param maxSequenceLength  longest sequence fed to the model, its leading special token included; longer documents
 *                           are split into consecutive chunks, each with its own special token
 * @param batchSize          sequences per batch (one progress step, one native-memory scope)
 * @param quantileBands      groups of examples sampled from equal percentile bands of the activations (0 for none)
 * @param examplesPerBand    examples in each band group
 * @param quantileSampleSize activations kept per feature for {@code quantile_values} and {@code histogram}: exact up to
 *                           this many non-zero activations, a uniform deterministic sample of this size beyond
 * @param histogramBins      bins of the histogram
 * @param outputTokens       tokens in {@code top_logits} and in {@code bottom_logits} (0: leave both empty, and the
 *                           model needs no unembedding)
 * @param scan               the transcoder set's identifier written to the files, or null for the dictionary's own
 *                           {@code scan()} (what the graph exporter writes, so that viewers find these dashboards)
 */
public record DashboardOptions(int topExamples, int contextBefore, int contextAfter, int maxSequenceLength,
                               int batchSize, int quantileBands, int examplesPerBand, int quantileSampleSize,
                               int histogramBins, int outputTokens, String scan) implements java.io.Serializable {

    public DashboardOptions {
        atLeast("topExamples", topExamples, 1);
        atLeast("contextBefore", contextBefore, 0);
        atLeast("contextAfter", contextAfter, 0);
        atLeast("maxSequenceLength", maxSequenceLength, 2);
        atLeast("batchSize", batchSize, 1);
        atLeast("quantileBands", quantileBands, 0);
        atLeast("examplesPerBand", examplesPerBand, 1);
        atLeast("quantileSampleSize", quantileSampleSize, 100);
        atLeast("histogramBins", histogramBins, 1);
        atLeast("outputTokens", outputTokens, 0);
        if (quantileBands > 100) {
            throw invalid("quantileBands must be at most 100 (one band per percentile), got " + quantileBands + ".");
        }
        if (scan != null && scan.isBlank()) {
            throw invalid("The scan must not be blank; give the transcoder set's identifier, or none for the "
                    + "dictionary's own.");
        }
    }

    /** 20 top examples, 24 + 1 + 8 token windows, 128-token sequences in batches of 16, 4 quartile bands of 4
     *  examples, 1,024 sampled activations, 20 histogram bins, 10 top and bottom output tokens, the dictionary's scan. */
    public static DashboardOptions defaults() {
        return new DashboardOptions(20, 24, 8, 128, 16, 4, 4, 1024, 20, 10, null);
    }

    public DashboardOptions withTopExamples(int n) {
        return new DashboardOptions(n, contextBefore, contextAfter, maxSequenceLength, batchSize, quantileBands,
                examplesPerBand, quantileSampleSize, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withContext(int before, int after) {
        return new DashboardOptions(topExamples, before, after, maxSequenceLength, batchSize, quantileBands,
                examplesPerBand, quantileSampleSize, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withMaxSequenceLength(int n) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, n, batchSize, quantileBands,
                examplesPerBand, quantileSampleSize, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withBatchSize(int n) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, n, quantileBands,
                examplesPerBand, quantileSampleSize, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withQuantileBands(int bands, int perBand) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, batchSize, bands,
                perBand, quantileSampleSize, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withQuantileSampleSize(int n) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, batchSize,
                quantileBands, examplesPerBand, n, histogramBins, outputTokens, scan);
    }

    public DashboardOptions withHistogramBins(int n) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, batchSize,
                quantileBands, examplesPerBand, quantileSampleSize, n, outputTokens, scan);
    }

    public DashboardOptions withOutputTokens(int n) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, batchSize,
                quantileBands, examplesPerBand, quantileSampleSize, histogramBins, n, scan);
    }

    public DashboardOptions withScan(String name) {
        return new DashboardOptions(topExamples, contextBefore, contextAfter, maxSequenceLength, batchSize,
                quantileBands, examplesPerBand, quantileSampleSize, histogramBins, outputTokens, name);
    }

    /** Tokens in an example window at most. */
    public int windowLength() {
        return contextBefore + 1 + contextAfter;
    }

    /** Band candidates kept per feature: twice what the band groups show. */
    public int bandSampleSize() {
        return 2 * quantileBands * examplesPerBand;
    }

    private static void atLeast(String name, int value, int min) {
        if (value < min) {
            throw invalid(name + " must be at least " + min + ", got " + value + ".");
        }
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}
