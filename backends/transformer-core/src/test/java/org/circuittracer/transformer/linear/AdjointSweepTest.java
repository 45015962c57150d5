package org.circuittracer.transformer.linear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;

/**
 * Causal truncation per lane group: sweeping runs of lanes on their own position and layer bounds gives the single
 * sweep's gradients (to float rounding) for any cut, with exact zeros past each lane's seed; and the cost model cuts
 * a batch whose seeds spread over positions, but not one whose seeds share a position.
 */
class AdjointSweepTest {

    private static final SiteKind[] READ = {SiteKind.RESID_MID, SiteKind.LN2_NORMALIZED, SiteKind.MLP_IN};
    private static final SiteKind[] WRITE = {SiteKind.MLP_OUT, SiteKind.MLP_OUT_RAW};

    @Test
    void anyGroupingOfLanesEqualsTheSingleSweep() {
        Random random = new Random(1616);
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 24; trial++) {
                try (NDManager scope = manager.newSubManager()) {
                    int layers = 1 + random.nextInt(4);
                    int t = 1 + random.nextInt(10);
                    int d = 4 + random.nextInt(8);
                    boolean gemma = random.nextBoolean();
                    FrozenTransformer model = randomModel(scope, random, layers, t, d, gemma, random.nextBoolean());
                    LinearizationSpec spec = new LinearizationSpec(READ[random.nextInt(READ.length)],
                            WRITE[random.nextInt(WRITE.length)], skips(scope, random, layers, d));
                    int lanes = 1 + random.nextInt(12);
                    VjpSeeds seeds = seeds(scope, random, lanes, layers, t, d, trial % 2 == 0);
                    String what = "trial " + trial + ": L=" + layers + " T=" + t + " d=" + d + " gemma " + gemma
                            + " " + spec.readSite() + "→" + spec.writeSite() + " seeds " + seeds.sites();
                    VjpResult single = AdjointSweep.run(scope, model, spec, seeds, new int[] {0, lanes});
                    List<int[]> cuts = new ArrayList<>();
                    cuts.add(AdjointSweep.runs(model, seeds.depths(layers), seeds.positions()));
                    cuts.add(IntStream.rangeClosed(0, lanes).toArray()); // every lane alone
                    cuts.add(randomCuts(random, lanes));
                    for (int[] cut : cuts) {
                        VjpResult grouped = AdjointSweep.run(scope, model, spec, seeds, cut);
                        assertSame(grouped, single, seeds, what + " cuts " + Arrays.toString(cut));
                    }
                    assertSame(AdjointSweep.run(scope, model, spec, seeds), single, seeds, what + " (planned)");
                }
            }
        }
    }

    @Test
    void theCostModelCutsSpreadPositionsButNotASharedOne() {
        try (NDManager manager = NDManager.newBaseManager()) {
            // perf16's shapes: 8 layers, d 256, 8 heads / 4 KV of 32, 16 positions
            FrozenTransformer model = randomModel(manager, new Random(3), 8, 16, 256, false, false, 8, 4, 32);
            int[] layers = new int[256];
            int[] positions = new int[256];
            Arrays.fill(layers, 3);
            for (int i = 0; i < 256; i++) {
                positions[i] = i * 16 / 256; // active order: ascending positions
            }
            int[] cuts = AdjointSweep.runs(model, layers, positions);
            assertThat(cuts.length).as(Arrays.toString(cuts)).isGreaterThan(2);
            assertThat(cuts[0]).isZero();
            assertThat(cuts[cuts.length - 1]).isEqualTo(256);
            for (int i = 1; i < cuts.length; i++) {
                assertThat(cuts[i]).isGreaterThan(cuts[i - 1]);
            }
            int[] logits = new int[10];
            Arrays.fill(logits, 8); // the unembedding's depth: the model's layer count
            int[] last = new int[10];
            Arrays.fill(last, 15);
            assertThat(AdjointSweep.runs(model, logits, last)).containsExactly(0, 10);
        }
    }

    @Test
    void badCutsAreRejected() {
        Random random = new Random(2);
        try (NDManager manager = NDManager.newBaseManager()) {
            FrozenTransformer model = randomModel(manager, random, 2, 4, 4, false, false);
            LinearizationSpec spec = new LinearizationSpec(SiteKind.MLP_IN, SiteKind.MLP_OUT, Map.of());
            VjpSeeds seeds = seeds(manager, random, 3, 2, 4, 4, true);
            assertThatThrownBy(() -> AdjointSweep.run(manager, model, spec, seeds, new int[] {0, 2}))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> AdjointSweep.run(manager, model, spec, seeds, new int[] {0, 2, 2, 3}))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static void assertSame(VjpResult actual, VjpResult expected, VjpSeeds seeds, String what) {
        assertThat(actual.positions()).as(what).isEqualTo(expected.positions());
        TreeSet<Integer> layers = new TreeSet<>(expected.writeSiteGradients().keySet());
        assertThat(actual.writeSiteGradients().keySet()).as(what).containsExactlyInAnyOrderElementsOf(layers);
        for (int layer : layers) {
            check(actual.writeSiteGradient(layer).orElseThrow(), expected.writeSiteGradient(layer).orElseThrow(),
                    seeds, what + " layer " + layer);
        }
        check(actual.embeddingGradient(), expected.embeddingGradient(), seeds, what + " embeddings");
    }

    /** Close to the single sweep, and exactly zero past each lane's seed position. */
    private static void check(NDArray actual, NDArray expected, VjpSeeds seeds, String what) {
        assertThat(actual.getShape()).as(what).isEqualTo(expected.getShape());
        FrozenAttentionTest.assertClose(actual, expected, what);
        int[] positions = seeds.positions();
        int bound = seeds.positionBound();
        for (int lane = 0; lane < positions.length; lane++) {
            if (positions[lane] + 1 < bound) {
                float[] past = actual.get(new NDIndex("{}, {}:", lane, positions[lane] + 1)).toFloatArray();
                for (float v : past) {
                    assertThat(v).as("%s: lane %d past its seed", what, lane).isZero();
                }
            }
        }
    }

    private static int[] randomCuts(Random random, int lanes) {
        TreeSet<Integer> cuts = new TreeSet<>(List.of(0, lanes));
        for (int i = 0; i < random.nextInt(4); i++) {
            cuts.add(random.nextInt(lanes + 1));
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Random seeds, logit lanes included; in (layer, position) order as attribution batches them, or shuffled. */
    private static VjpSeeds seeds(NDManager manager, Random random, int lanes, int layers, int t, int d,
                                  boolean sorted) {
        List<SeedSite> seeds = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            int layer = random.nextInt(layers + 1);
            seeds.add(layer == layers ? new SeedSite.Unembedding(t - 1)
                    : new SeedSite.ReadSite(layer, random.nextInt(t)));
        }
        if (sorted) {
            seeds.sort(Comparator.<SeedSite>comparingInt(s -> s.depth(layers)).thenComparingInt(SeedSite::position));
        }
        return new VjpSeeds(seeds, manager.randomNormal(new Shape(lanes, d)));
    }

    private static Map<Integer, LinearMap> skips(NDManager manager, Random random, int layers, int d) {
        if (random.nextBoolean()) {
            return Map.of();
        }
        NDArray w = manager.randomNormal(0, 0.3f, new Shape(d, d), ai.djl.ndarray.types.DataType.FLOAT32);
        LinearMap skip = new LinearMap() {
            @Override
            public int inputWidth() {
                return d;
            }

            @Override
            public int outputWidth() {
                return d;
            }

            @Override
            public NDArray apply(NDArray x) {
                return x.matMul(w);
            }

            @Override
            public NDArray applyAdjoint(NDArray gradient) {
                return gradient.matMul(w.transpose());
            }
        };
        return Map.of(random.nextInt(layers), skip);
    }

    static FrozenTransformer randomModel(NDManager manager, Random random, int layers, int t, int d, boolean gemma,
                                        boolean centred) {
        int kv = 1 + random.nextInt(2);
        return randomModel(manager, random, layers, t, d, gemma, centred, kv * (1 + random.nextInt(2)), kv,
                1 + random.nextInt(4));
    }

    static FrozenTransformer randomModel(NDManager manager, Random random, int layers, int t, int d, boolean gemma,
                                        boolean centred, int heads, int kv, int dh) {
        List<FrozenLayer> blocks = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            FrozenAttention attention = new FrozenAttention(FrozenAttention.Pattern.recorded(
                    FrozenAttentionTest.causalPattern(manager, random, heads, t)),
                    manager.randomNormal(0, 0.3f, new Shape((long) kv * dh, d), ai.djl.ndarray.types.DataType.FLOAT32),
                    manager.randomNormal(0, 0.3f, new Shape(d, (long) heads * dh), ai.djl.ndarray.types.DataType.FLOAT32),
                    heads, kv, dh, 1 + random.nextInt(heads * t * t));
            blocks.add(new FrozenLayer(norm(manager, d, t, centred), attention,
                    gemma ? norm(manager, d, t, false) : null, norm(manager, d, t, centred),
                    gemma ? norm(manager, d, t, false) : null));
        }
        return new FrozenTransformer(blocks, norm(manager, d, t, centred), d, t);
    }

    private static FrozenNorm norm(NDManager manager, int d, int t, boolean centred) {
        return new FrozenNorm(manager.randomUniform(0.5f, 1.5f, new Shape(d)), centred,
                manager.randomUniform(0.5f, 2f, new Shape(t, 1)));
    }
}
