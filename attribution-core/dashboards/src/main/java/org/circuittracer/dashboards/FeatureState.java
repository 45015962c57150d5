package org.circuittracer.dashboards;

/** What is kept of one feature while the corpus streams by; created when the feature first fires. */
final class FeatureState {

    long count;
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    /** One candidate per sequence (its peak), best value first. */
    final BoundedHeap<ExampleCandidate> top;
    /** Token-level candidates for the quantile bands, smallest priority first; null without bands. */
    final BoundedHeap<ExampleCandidate> band;
    final ValueSample values;

    FeatureState(DashboardOptions options) {
        top = new BoundedHeap<>(options.topExamples(), ExampleCandidate::byValue);
        band = options.quantileBands() == 0 ? null
                : new BoundedHeap<>(options.bandSampleSize(), ExampleCandidate::byPriority);
        values = new ValueSample(options.quantileSampleSize());
    }

    /**
     * The state of the union of two disjoint parts of a corpus: counts add, extremes combine, and each bounded
     * collection keeps the best of both under its total order, which is what one pass over both parts keeps.
     * Neither argument is changed; kept examples are shared (they are never modified).
     */
    static FeatureState merge(FeatureState a, FeatureState b, DashboardOptions options) {
        FeatureState out = new FeatureState(options);
        for (FeatureState s : new FeatureState[] {a, b}) {
            out.count += s.count;
            out.min = Math.min(out.min, s.min);
            out.max = Math.max(out.max, s.max);
            out.values.offerAll(s.values);
            s.top.elements().forEach(out.top::offer);
            if (out.band != null) {
                s.band.elements().forEach(out.band::offer);
            }
        }
        return out;
    }

    long retainedBytes() {
        long bytes = 64 + 2 * 40 + values.retainedBytes();
        for (ExampleCandidate c : top.elements()) {
            bytes += 8 + c.retainedBytes();
        }
        if (band != null) {
            for (ExampleCandidate c : band.elements()) {
                bytes += 8 + c.retainedBytes();
            }
        }
        return bytes;
    }
}
