package org.circuittracer.dashboards;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.circuittracer.attribution.export.FeatureIds;

/**
 * Turns the state kept for one feature into its {@link FeatureDashboard}.
 *
 * <ul>
 *   <li>Percentiles use the nearest rank of the kept values {@code v[0] ≤ … ≤ v[n−1]}: percentile {@code p} is
 *       {@code v[⌈p·n/100⌉ − 1]}; the 100th is the exact maximum.</li>
 *   <li>The histogram counts the kept values in {@code histogramBins} equal bins over {@code [act_min, act_max]} (the
 *       maximum falls in the last bin); when the values are a sample, counts are scaled to the feature's number of
 *       activations and rounded.</li>
 *   <li>Band {@code b} of {@code B} holds the sampled token activations {@code v} with
 *       {@code P(b/B) < v ≤ P((b+1)/B)} ({@code P} as above, open at both outer ends); the examples shown are the
 *       first {@code examplesPerBand} of the sample in priority order, listed by decreasing activation.</li>
 *   <li>An example is marked repeated when an earlier example (top examples first, then the bands, highest first)
 *       comes from the same corpus sequence.</li>
 * </ul>
 */
final class DashboardAssembly {

    static final String TOP_GROUP = "Top activations";

    private DashboardAssembly() {
    }

    static FeatureDashboard assemble(String scan, int layer, int feature, FeatureState state, OutputTokenRanking ranking,
                                     String[] tokenStrings, String joiner, long corpusTokens,
                                     DashboardOptions options) {
        float[] sample = state.values.sortedValues();
        boolean sampled = state.count > sample.length;
        float actMin = Math.min(0f, state.min);
        float actMax = Math.max(0f, state.max);

        float[] quantiles = new float[100];
        for (int p = 1; p <= 100; p++) {
            quantiles[p - 1] = percentile(sample, p, 100);
        }
        quantiles[99] = state.max;

        int bins = options.histogramBins();
        long[] raw = new long[bins];
        float range = actMax - actMin;
        for (float v : sample) {
            int bin = range > 0 ? (int) ((v - actMin) / range * bins) : bins - 1;
            raw[Math.max(0, Math.min(bins - 1, bin))]++;
        }
        long[] histogram = new long[bins];
        for (int b = 0; b < bins; b++) {
            histogram[b] = sampled ? Math.round((double) raw[b] * state.count / sample.length) : raw[b];
        }

        Set<Long> shown = new HashSet<>();
        List<ExampleGroup> groups = new ArrayList<>();
        groups.add(new ExampleGroup(TOP_GROUP, examples(state.top.sorted(), tokenStrings, joiner, shown)));
        if (state.band != null) {
            List<ExampleCandidate> candidates = state.band.sorted();
            int bands = options.quantileBands();
            for (int b = bands - 1; b >= 0; b--) {
                float lo = b == 0 ? Float.NEGATIVE_INFINITY : percentile(sample, b, bands);
                float hi = b == bands - 1 ? Float.POSITIVE_INFINITY : percentile(sample, b + 1, bands);
                List<ExampleCandidate> members = new ArrayList<>();
                for (ExampleCandidate c : candidates) {
                    if (members.size() < options.examplesPerBand() && c.value > lo && c.value <= hi) {
                        members.add(c);
                    }
                }
                members.sort((x, y) -> {
                    int c = Float.compare(y.value, x.value);
                    c = c != 0 ? c : Long.compare(x.sequence, y.sequence);
                    return c != 0 ? c : Integer.compare(x.position, y.position);
                });
                if (!members.isEmpty()) {
                    groups.add(new ExampleGroup(bandName(b, bands), examples(members, tokenStrings, joiner, shown)));
                }
            }
        }
        List<String> top = new ArrayList<>();
        List<String> bottom = new ArrayList<>();
        for (int id : ranking.topIds()) {
            top.add(tokenStrings[id]);
        }
        for (int id : ranking.bottomIds()) {
            bottom.add(tokenStrings[id]);
        }
        return new FeatureDashboard(scan, FeatureIds.pair(layer, feature), layer, feature, groups, top, bottom,
                actMin, actMax, quantiles, histogram, (double) state.count / corpusTokens);
    }

    /** The value of rank {@code ⌈numerator·n/denominator⌉} (1-based) of ascending {@code sorted}. */
    static float percentile(float[] sorted, int numerator, int denominator) {
        long rank = ((long) numerator * sorted.length + denominator - 1) / denominator;
        return sorted[(int) Math.max(0, rank - 1)];
    }

    static String bandName(int band, int bands) {
        return String.format(Locale.ROOT, "Quantile band %d-%d%%", Math.round(100.0 * band / bands),
                Math.round(100.0 * (band + 1) / bands));
    }

    /** Context windows; {@code joiner} precedes every token but the first, so that the tokens concatenate to the
     *  text the tokenizer decodes. */
    private static List<ActivationExample> examples(List<ExampleCandidate> candidates, String[] tokenStrings,
                                                    String joiner, Set<Long> shown) {
        List<ActivationExample> out = new ArrayList<>(candidates.size());
        for (ExampleCandidate c : candidates) {
            List<String> tokens = new ArrayList<>(c.tokenIds.length);
            for (int i = 0; i < c.tokenIds.length; i++) {
                String text = tokenStrings[c.tokenIds[i]];
                tokens.add(i == 0 ? text : joiner + text);
            }
            out.add(new ActivationExample(tokens, c.activations, c.peakIndex, !shown.add(c.sequence)));
        }
        return out;
    }
}
