package org.circuittracer.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.cli.PromptAttribution;

/**
 * The node ids ({@code LAYER_FEATURE_POSITION}) of each feature of a graph JSON: a feature is one row of the
 * cross-graph table but may be a node at several positions, and the viewer pins nodes, not features.
 */
final class FeatureNodes {

    private FeatureNodes() {
    }

    /** For each of {@code features}, in order, the ids of its nodes in {@code graphJson}, in the file's order. */
    static List<List<String>> of(JsonNode graphJson, List<PromptAttribution.GraphFeature> features) {
        Map<String, List<String>> byFeature = new LinkedHashMap<>();
        for (JsonNode node : graphJson.path("nodes")) {
            if (!GraphJsonExporter.FEATURE.equals(node.path("feature_type").asText())) {
                continue;
            }
            String id = node.path("node_id").asText();
            int last = id.lastIndexOf('_');
            if (last > 0) {
                byFeature.computeIfAbsent(id.substring(0, last), k -> new ArrayList<>()).add(id);
            }
        }
        return features.stream().map(f -> byFeature.getOrDefault(f.layer() + "_" + f.feature(), List.of())).toList();
    }
}
