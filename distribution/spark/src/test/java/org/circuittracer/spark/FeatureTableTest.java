package org.circuittracer.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;

import org.junit.jupiter.api.Test;

class FeatureTableTest {

    @Test
    void ranksFeaturesByGraphsThenMeanInfluenceWhateverTheTaskOrder() {
        SummaryRow b = row(2, "b", List.of("1_2", "3_4"), List.of(0.4, 0.1));
        SummaryRow a = row(1, "a", List.of("0_5", "1_2"), List.of(0.05, 0.2));
        SummaryRow failed = SummaryRow.failed(new PromptRow(3, "x", null, "c", null, "bad"), "bad", 0);

        List<FeatureTable.Entry> entries = FeatureTable.of(List.of(b, failed, a));

        assertThat(entries).extracting(e -> e.layer() + "_" + e.feature()).containsExactly("1_2", "0_5", "3_4");
        assertThat(entries.get(0).graphs()).isEqualTo(2);
        assertThat(entries.get(0).meanInfluence()).isCloseTo(0.3, within(1e-12));
        assertThat(entries.get(0).slugs()).containsExactly("a", "b");
        assertThat(FeatureTable.of(List.of(a, b))).isEqualTo(entries);
    }

    private static SummaryRow row(int number, String slug, List<String> features, List<Double> influences) {
        return new SummaryRow(number, slug, slug, SummaryRow.OK, null, List.of("x"), List.of(0.9), 0.5, 0.8, 10, 20,
                1.0, features, influences, "{}");
    }
}
