package org.circuittracer.attribution.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;

class FeatureIdsTest {

    @Test
    void pairsAsTheGraphFormatsWorkedExamples() {
        assertThat(FeatureIds.pair(0, 1234)).isEqualTo(763229);
        assertThat(FeatureIds.pair(1, 4012)).isEqualTo(8058103);
        assertThat(FeatureIds.unpair(8058103)).isEqualTo(new FeatureIds.LayerIndex(1, 4012));
        assertThat(FeatureIds.unpair(0)).isEqualTo(new FeatureIds.LayerIndex(0, 0));
        assertThat(FeatureIds.pair(40, 2_000_000)).isEqualTo(2_000_083_000_820L); // beyond an int, as JSON numbers
    }

    @Test
    void unpairInvertsPairUpToTheLargestPair() {
        Random random = new Random(5);
        for (int i = 0; i < 10_000; i++) {
            int layer = random.nextInt(200);
            long index = random.nextInt(Integer.MAX_VALUE);
            assertThat(FeatureIds.unpair(FeatureIds.pair(layer, index)))
                    .isEqualTo(new FeatureIds.LayerIndex(layer, index));
        }
        long largest = FeatureIds.MAX_PAIRED - 1;
        FeatureIds.LayerIndex last = FeatureIds.unpair(largest);
        assertThat(FeatureIds.pair(last.layer(), last.index())).isEqualTo(largest);
    }

    @Test
    void refusesIdsAndPairsOutsideTheRangeWithAnInvalidArgument() {
        assertThatThrownBy(() -> FeatureIds.unpair(-1)).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> FeatureIds.unpair(Long.MAX_VALUE))
                .hasMessageContaining("larger than any paired feature id");
        assertThatThrownBy(() -> FeatureIds.pair(-1, 3)).hasMessageContaining("non-negative");
        assertThatThrownBy(() -> FeatureIds.pair(2, 3_037_000_497L))
                .satisfies(e -> assertThat(((CircuitTracerException) e).errorCode())
                        .isEqualTo(StandardErrorCode.INVALID_ARGUMENT));
    }
}
