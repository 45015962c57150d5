package org.circuittracer.spark;

import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * {@code features-across-graphs.json}: the feature table's first rows for the viewer's cross-graph page, which reads
 * no Parquet. Capped so the page stays quick on big batches; the file says how many rows there were in all.
 */
final class FeaturesJson {

    static final String FILE_NAME = "features-across-graphs.json";
    static final String FORMAT = "circuit-tracer-features-across-graphs";
    static final int MAX_FEATURES = 5_000;
    static final int MAX_GRAPHS_PER_FEATURE = 50;

    private static final ObjectMapper JSON = new ObjectMapper();

    private FeaturesJson() {
    }

    /** Writes the first {@link #MAX_FEATURES} of {@code entries} to {@code file}, atomically. */
    static void write(List<FeatureTable.Entry> entries, long graphs, Path file) {
        write(entries, graphs, file, MAX_FEATURES, MAX_GRAPHS_PER_FEATURE);
    }

    static void write(List<FeatureTable.Entry> entries, long graphs, Path file, int maxFeatures, int maxGraphs) {
        try {
            AtomicFiles.write(file, JSON.writeValueAsBytes(document(entries, graphs, maxFeatures, maxGraphs)));
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot write " + file + ": " + e, e);
        }
    }

    static ObjectNode document(List<FeatureTable.Entry> entries, long graphs, int maxFeatures, int maxGraphs) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("format", FORMAT);
        doc.put("format_version", 1);
        doc.put("graphs_total", graphs);
        doc.put("features_total", entries.size());
        doc.put("max_features", maxFeatures);
        doc.put("max_graphs_per_feature", maxGraphs);
        ArrayNode rows = doc.putArray("features");
        for (FeatureTable.Entry e : entries.subList(0, Math.min(maxFeatures, entries.size()))) {
            ObjectNode row = rows.addObject();
            row.put("layer", e.layer());
            row.put("feature", e.feature());
            row.put("feature_id", FeatureIds.pair(e.layer(), e.feature())); // the graph JSON's "feature"
            row.put("graphs", e.graphs());
            number(row, "mean_influence", e.meanInfluence());
            number(row, "min_influence", e.minInfluence());
            number(row, "max_influence", e.maxInfluence());
            ArrayNode in = row.putArray("appears_in");
            for (FeatureTable.Appearance a : e.appearances().subList(0, Math.min(maxGraphs, e.graphs()))) {
                ObjectNode o = in.addObject();
                o.put("slug", a.slug());
                number(o, "influence", a.influence());
                a.nodeIds().forEach(o.putArray("node_ids")::add);
            }
        }
        return doc;
    }

    /** JSON has no NaN or infinity: such a value is written as null. */
    private static void number(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }
}
