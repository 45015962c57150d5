package org.circuittracer.dashboards;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The dashboard of one feature: the feature object of docs/reference/graph-format.md §4.1, plus {@code layer} and {@code feature}
 * (extra fields, which viewers ignore). Numbers a file read back lacks are {@code NaN} (scalars) or empty (arrays).
 *
 * @param transcoderId        {@code transcoder_id}: the scan of the transcoder set
 * @param index               {@code index}: the paired feature id, the node's {@code feature} value and the file name
 * @param layer               the source layer
 * @param feature             the index of the feature within its layer
 * @param groups              {@code examples_quantiles}: "Top activations" first, then the quantile bands, highest first
 * @param topLogits           {@code top_logits}: the tokens the feature promotes most through the unembedding
 * @param bottomLogits        {@code bottom_logits}: the tokens it suppresses most
 * @param actMin              {@code act_min}: lower end of the colour scale and of the histogram
 * @param actMax              {@code act_max}: the largest activation in the corpus
 * @param quantileValues      {@code quantile_values}: activation at the 1st … 100th percentile of the non-zero
 *                            activations, ascending
 * @param histogram           {@code histogram}: counts of non-zero activations in equal-width bins over
 *                            {@code [actMin, actMax]}
 * @param activationFrequency {@code activation_frequency}: fraction of corpus tokens (special-token positions excluded)
 *                            on which the feature is non-zero
 */
public record FeatureDashboard(String transcoderId, long index, int layer, int feature, List<ExampleGroup> groups,
                               List<String> topLogits, List<String> bottomLogits, float actMin, float actMax,
                               float[] quantileValues, long[] histogram, double activationFrequency) {

    public FeatureDashboard {
        Objects.requireNonNull(transcoderId, "transcoderId");
        groups = List.copyOf(groups);
        topLogits = List.copyOf(topLogits);
        bottomLogits = List.copyOf(bottomLogits);
        quantileValues = quantileValues.clone();
        histogram = histogram.clone();
    }

    @Override
    public float[] quantileValues() {
        return quantileValues.clone();
    }

    @Override
    public long[] histogram() {
        return histogram.clone();
    }

    /** The group named {@code name}, or null. */
    public ExampleGroup group(String name) {
        return groups.stream().filter(g -> g.name().equals(name)).findFirst().orElse(null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureDashboard that && index == that.index && layer == that.layer
                && feature == that.feature && transcoderId.equals(that.transcoderId) && groups.equals(that.groups)
                && topLogits.equals(that.topLogits) && bottomLogits.equals(that.bottomLogits)
                && Float.compare(actMin, that.actMin) == 0 && Float.compare(actMax, that.actMax) == 0
                && Arrays.equals(quantileValues, that.quantileValues) && Arrays.equals(histogram, that.histogram)
                && Double.compare(activationFrequency, that.activationFrequency) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(transcoderId, index, layer, feature, groups, topLogits, bottomLogits, actMin, actMax,
                Arrays.hashCode(quantileValues), Arrays.hashCode(histogram), activationFrequency);
    }

    @Override
    public String toString() {
        return "FeatureDashboard[layer " + layer + ", feature " + feature + " (" + index + "), frequency "
                + activationFrequency + ", max " + actMax + ", " + groups.size() + " groups]";
    }
}
