package org.circuittracer.spark;

import java.nio.file.Path;

import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.cli.PromptAttribution;

/** Where a batch writes, under its output directory. */
record OutputLayout(Path out) {

    /** {@code out/graphs}: the graph JSON files and their index, as {@code serve --graph-file-dir} reads them. */
    Path graphDirectory() {
        return out.resolve("graphs");
    }

    Path index() {
        return graphDirectory().resolve(GraphJsonExporter.INDEX_FILE);
    }

    Path graphJson(String slug) {
        return graphDirectory().resolve(slug + ".json");
    }

    /** {@code out/graph-files/SLUG.graph.safetensors}: the unpruned graph, as {@code --graph-output-path} writes it. */
    Path graphFile(String slug) {
        return out.resolve("graph-files").resolve(slug + PromptAttribution.GRAPH_FILE_SUFFIX);
    }

    Path summaryCsv() {
        return out.resolve("summary.csv");
    }

    Path summaryParquet() {
        return out.resolve("summary.parquet");
    }

    /** The cross-prompt feature table. */
    Path featuresParquet() {
        return out.resolve("features.parquet");
    }

    /**
     * The same table as JSON for the viewer ({@link FeaturesJson}): in the graph directory, where
     * {@code serve --graph-file-dir} finds it, and JSON because the viewer does not read Parquet.
     */
    Path featuresJson() {
        return graphDirectory().resolve(FeaturesJson.FILE_NAME);
    }
}
