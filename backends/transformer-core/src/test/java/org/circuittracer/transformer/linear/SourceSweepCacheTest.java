package org.circuittracer.transformer.linear;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.SourceWrites;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;

/**
 * Head loadings in batches of targets against one set of sources: the sources' forward sweep, kept after the first
 * batch, gives every later batch what sweeping again gives, whatever the batch's highest layer and position bound
 * (exactly when the batch reaches the last position; to float rounding when it reads a shorter prefix).
 */
class SourceSweepCacheTest {

    @Test
    void batchesThatReuseTheSourcesSweepGiveTheLoadingsOfAFreshSweep() {
        Random random = new Random(2020);
        int layers = 4;
        int t = 7;
        int d = 12;
        try (NDManager manager = NDManager.newBaseManager()) {
            FrozenTransformer model = AdjointSweepTest.randomModel(manager, random, layers, t, d, true, false, 4, 2, 3);
            LinearizationSpec spec = new LinearizationSpec(SiteKind.LN2_NORMALIZED, SiteKind.MLP_OUT, Map.of());
            SourceWrites sources = sources(manager, random, spec, layers, t, d, 9);
            try (SourceSweepCache cache = new SourceSweepCache(manager)) {
                // batches ending at different layers (one below the top, one at the unembedding) and positions
                List<List<SeedSite>> batches = List.of(
                        List.of(new SeedSite.ReadSite(1, t - 1), new SeedSite.ReadSite(2, 3)),
                        List.of(new SeedSite.Unembedding(t - 1), new SeedSite.ReadSite(3, t - 1)),
                        List.of(new SeedSite.ReadSite(0, 2), new SeedSite.ReadSite(2, t - 1)),
                        List.of(new SeedSite.ReadSite(1, 2), new SeedSite.ReadSite(3, 4)),   // positions 0..4
                        List.of(new SeedSite.ReadSite(2, 0), new SeedSite.ReadSite(2, 1)));  // positions 0..1
                for (List<SeedSite> batch : batches) {
                    VjpSeeds targets = new VjpSeeds(batch, manager.randomNormal(new Shape(batch.size(), d)));
                    int[][] edges = allPairs(batch.size(), sources.sources());
                    HeadLoadings fresh = HeadLoadingSweep.run(manager, model, spec, targets, sources, edges[0],
                            edges[1], null);
                    HeadLoadings kept = HeadLoadingSweep.run(manager, model, spec, targets, sources, edges[0],
                            edges[1], cache);
                    int bound = targets.positionBound();
                    if (bound == t) {
                        assertThat(kept).as("batch %s", batch).isEqualTo(fresh);
                    } else {
                        // the kept sweep covers the whole prompt; this batch reads its first `bound` positions
                        assertThat(kept.totals()).as("batch %s", batch).containsExactly(fresh.totals());
                        assertClose(kept.loadings(), fresh.loadings(), "loadings of batch " + batch);
                        assertClose(kept.bypass(), fresh.bypass(), "bypass of batch " + batch);
                    }
                }
            }
        }
    }

    private static void assertClose(float[] actual, float[] expected, String what) {
        float scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("%s [%d]: %s vs %s", what, i, actual[i], expected[i])
                    .isLessThanOrEqualTo(1e-5f * Math.max(1, scale));
        }
    }

    private static SourceWrites sources(NDManager manager, Random random, LinearizationSpec spec, int layers, int t,
                                        int d, int count) {
        int[] owners = new int[count + 1];
        int[] positions = new int[count + 1];
        List<HookSite> sites = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            owners[w] = w;
            positions[w] = random.nextInt(t);
            sites.add(HookSite.of(spec.writeSite(), random.nextInt(layers)));
        }
        owners[count] = 0; // a token source's second write, at the embeddings
        positions[count] = 1;
        sites.add(HookSite.global(SiteKind.EMBED));
        return new SourceWrites(count, owners, sites, positions, manager.randomNormal(new Shape(count + 1, d)));
    }

    private static int[][] allPairs(int lanes, int sources) {
        int[][] edges = new int[2][lanes * sources];
        for (int lane = 0, e = 0; lane < lanes; lane++) {
            for (int s = 0; s < sources; s++, e++) {
                edges[0][e] = lane;
                edges[1][e] = s;
            }
        }
        return edges;
    }
}
