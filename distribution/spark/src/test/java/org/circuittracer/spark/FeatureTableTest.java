package org.circuittracer.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.circuittracer.attribution.export.FeatureIds;

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
        assertThat(entries.get(0).minInfluence()).isEqualTo(0.2);
        assertThat(entries.get(0).maxInfluence()).isEqualTo(0.4);
        assertThat(entries.get(0).appearances().get(1).nodeIds()).containsExactly("1_2_1");
        assertThat(FeatureTable.of(List.of(a, b))).isEqualTo(entries);
    }

    @Test
    void theViewersJsonIsCappedAndSaysHowManyThereWere(@TempDir Path dir) throws IOException {
        SummaryRow a = row(1, "a", List.of("0_5", "1_2"), List.of(0.05, 0.2));
        SummaryRow b = row(2, "b", List.of("1_2", "3_4"), List.of(0.4, 0.1));
        SummaryRow c = row(3, "c", List.of("1_2"), List.of(0.3));
        Path file = dir.resolve(FeaturesJson.FILE_NAME);

        FeaturesJson.write(FeatureTable.of(List.of(a, b, c)), 3, file, 2, 2);

        JsonNode doc = new ObjectMapper().readTree(file.toFile());
        assertThat(doc.get("features_total").asInt()).isEqualTo(3);
        assertThat(doc.get("graphs_total").asInt()).isEqualTo(3);
        JsonNode first = doc.get("features").get(0);
        assertThat(doc.get("features")).hasSize(2);
        assertThat(first.get("feature_id").asLong()).isEqualTo(FeatureIds.pair(1, 2));
        assertThat(first.get("graphs").asInt()).isEqualTo(3);
        assertThat(first.get("appears_in")).hasSize(2).extracting(n -> n.get("slug").asText())
                .containsExactly("a", "b");
        assertThat(first.get("appears_in").get(0).get("node_ids").get(0).asText()).isEqualTo("1_2_1");
        try (var files = Files.list(dir)) {
            assertThat(files).as("no temporary file left").containsExactly(file);
        }
    }

    private static SummaryRow row(int number, String slug, List<String> features, List<Double> influences) {
        return new SummaryRow(number, slug, slug, SummaryRow.OK, null, List.of("x"), List.of(0.9), 0.5, 0.8, 10, 20,
                1.0, features, influences,
                features.stream().map(f -> List.of(f + "_1")).toList(), "{}");
    }
}
