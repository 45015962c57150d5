package org.circuittracer.dashboards;

import java.util.Random;
import org.circuittracer.dashboards.files.DashboardLayout;

/**
 * Small dashboard sets made without a model, each a deterministic function of its generation {@code n}: the scan is
 * {@code crash-<n>} (so every feature record names the set it belongs to), which features fired, their activations
 * and examples all depend on {@code n}, and so does the layout (every fourth set per-feature JSON, the others packed),
 * so consecutive sets differ in every file. For the crash tests of the writer.
 */
public final class SyntheticDashboards {

    public static final int LAYERS = 3;
    public static final int FEATURES = 120;
    private static final int VOCABULARY = 40;

    private SyntheticDashboards() {
    }

    /** The scan of set {@code n}. */
    public static String scan(long n) {
        return "crash-" + n;
    }

    /** The layout set {@code n} is written in. */
    public static DashboardLayout layout(long n) {
        return n % 4 == 3 ? DashboardLayout.JSON : DashboardLayout.PACKED;
    }

    /** Set {@code n}. */
    public static CollectedDashboards of(long n) {
        DashboardOptions options = DashboardOptions.defaults().withTopExamples(3).withContext(3, 1)
                .withQuantileBands(0, 1).withOutputTokens(0).withHistogramBins(8);
        FeatureState[][] states = new FeatureState[LAYERS][FEATURES];
        for (int l = 0; l < LAYERS; l++) {
            for (int f = 0; f < FEATURES; f++) {
                Random r = new Random(n * 1_000_003L + l * 7_919L + f);
                if (r.nextInt(3) == 0) {
                    continue; // never fired in this set
                }
                FeatureState s = new FeatureState(options);
                int fired = 1 + r.nextInt(6);
                for (int i = 0; i < fired; i++) {
                    float v = 0.01f + r.nextFloat() * 5f;
                    long sequence = i;
                    int position = 4 + r.nextInt(4);
                    s.count++;
                    s.min = Math.min(s.min, v);
                    s.max = Math.max(s.max, v);
                    s.values.offer(Priorities.of(l, f, sequence, position), sequence, position, v);
                    if (!s.top.full()) {
                        int[] ids = new int[5];
                        float[] acts = new float[5];
                        for (int t = 0; t < ids.length; t++) {
                            ids[t] = r.nextInt(VOCABULARY);
                        }
                        acts[3] = v;
                        s.top.add(new ExampleCandidate(v, sequence, position, 0, ids, acts, 3));
                    }
                }
                states[l][f] = s;
            }
        }
        String[] strings = new String[VOCABULARY];
        for (int t = 0; t < VOCABULARY; t++) {
            strings[t] = " w" + t;
        }
        return new CollectedDashboards(scan(n), "synthetic", options, states, new OutputTokenRanking[LAYERS][],
                strings, "", 40, 40, 400 + n);
    }
}
