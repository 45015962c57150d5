package org.circuittracer.spi.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

class VjpSeedsTest {

    private static final SeedSite LOGIT = new SeedSite.Unembedding(6);
    private static final SeedSite FEATURE = new SeedSite.ReadSite(2, 3);

    @Test
    void seedSitesRefuseNegativeLayersAndPositions() {
        refused(() -> new SeedSite.ReadSite(-1, 0));
        refused(() -> new SeedSite.ReadSite(0, -1));
        refused(() -> new SeedSite.Unembedding(-1));
        assertThat(new SeedSite.ReadSite(2, 3)).isEqualTo(FEATURE);
        assertThat(new SeedSite.Unembedding(6)).isEqualTo(LOGIT).isNotEqualTo(new SeedSite.ReadSite(0, 6));
    }

    @Test
    void theUnembeddingLiesAboveEveryBlock() {
        assertThat(FEATURE.depth(4)).isEqualTo(2);
        assertThat(LOGIT.depth(4)).isEqualTo(4);
    }

    @Test
    void seedsNeedOneVectorRowPerSite() {
        refused(() -> new VjpSeeds(List.of(), vectors(0, 8)));
        refused(() -> new VjpSeeds(List.of(LOGIT, FEATURE), vectors(3, 8)));
        refused(() -> new VjpSeeds(List.of(LOGIT), ShapeOnlyArray.of(8)));
        refused(() -> new VjpSeeds(List.of(LOGIT), null));
        refused(() -> new VjpSeeds(null, vectors(1, 8)));
        refused(() -> new VjpSeeds(Arrays.asList(LOGIT, null), vectors(2, 8)));
    }

    @Test
    void theEnginesViewsOfABatch() {
        VjpSeeds seeds = new VjpSeeds(List.of(FEATURE, LOGIT, new SeedSite.ReadSite(0, 1)), vectors(3, 8));
        assertThat(seeds.lanes()).isEqualTo(3);
        assertThat(seeds.positions()).containsExactly(3, 6, 1);
        assertThat(seeds.depths(4)).containsExactly(2, 4, 0);
        assertThat(seeds.layerBound(4)).isEqualTo(4);
        assertThat(seeds.positionBound()).isEqualTo(7);
        VjpSeeds features = new VjpSeeds(List.of(FEATURE, new SeedSite.ReadSite(0, 1)), vectors(2, 8));
        assertThat(features.layerBound(4)).isEqualTo(2);
        assertThat(features.positionBound()).isEqualTo(4);
    }

    @Test
    void theSitesAreCopiedAndCompareByValue() {
        NDArray vectors = vectors(2, 8);
        List<SeedSite> sites = new ArrayList<>(List.of(FEATURE, LOGIT));
        VjpSeeds seeds = new VjpSeeds(sites, vectors);
        sites.set(0, LOGIT);
        assertThat(seeds.sites()).containsExactly(FEATURE, LOGIT);
        assertThatThrownBy(() -> seeds.sites().add(LOGIT)).isInstanceOf(UnsupportedOperationException.class);
        VjpSeeds same = new VjpSeeds(List.of(new SeedSite.ReadSite(2, 3), new SeedSite.Unembedding(6)), vectors);
        assertThat(same).isEqualTo(seeds).hasSameHashCodeAs(seeds);
        assertThat(new VjpSeeds(List.of(LOGIT, FEATURE), vectors)).isNotEqualTo(seeds);
    }

    private static void refused(ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
    }

    private static NDArray vectors(int rows, int width) {
        return ShapeOnlyArray.of(rows, width);
    }
}
