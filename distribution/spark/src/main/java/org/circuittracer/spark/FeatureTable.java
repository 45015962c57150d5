package org.circuittracer.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The cross-prompt view of a batch: every feature kept in at least one pruned graph, with how many graphs it appears
 * in, its mean cumulative influence there (lower = more influential) and the slugs of those graphs; most widespread
 * first, then most influential. The start of "global circuits": which features a behaviour uses across prompts.
 */
final class FeatureTable {

    /** One graph a feature appears in: its cumulative influence there and its node ids (one a position). */
    record Appearance(String slug, double influence, List<String> nodeIds) {
        Appearance {
            nodeIds = List.copyOf(nodeIds);
        }
    }

    /** One feature's row; {@code appearances} in slug order. */
    record Entry(int layer, int feature, int graphs, double meanInfluence, double minInfluence, double maxInfluence,
                 List<Appearance> appearances) {
        Entry {
            appearances = List.copyOf(appearances);
        }

        /** The graphs it appears in, in slug order (the table's {@code slugs}). */
        List<String> slugs() {
            return appearances.stream().map(Appearance::slug).toList();
        }
    }

    private FeatureTable() {
    }

    /** The rows of the graphs of {@code rows} (written or skipped); in a fixed order, whatever the task order was. */
    static List<Entry> of(List<SummaryRow> rows) {
        Map<String, List<Appearance>> byFeature = new LinkedHashMap<>();
        for (SummaryRow r : rows) {
            for (int i = 0; i < r.features().size(); i++) {
                List<String> nodes = i < r.featureNodes().size() ? r.featureNodes().get(i) : List.of();
                byFeature.computeIfAbsent(r.features().get(i), k -> new ArrayList<>())
                        .add(new Appearance(r.slug(), r.influences().get(i), nodes));
            }
        }
        List<Entry> entries = new ArrayList<>();
        byFeature.forEach((name, uses) -> {
            String[] parts = name.split("_");
            DoubleSummaryStatistics stats = uses.stream().mapToDouble(Appearance::influence).summaryStatistics();
            entries.add(new Entry(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), uses.size(),
                    stats.getAverage(), stats.getMin(), stats.getMax(),
                    uses.stream().sorted(Comparator.comparing(Appearance::slug)).toList()));
        });
        entries.sort(Comparator.comparingInt(Entry::graphs).reversed().thenComparingDouble(Entry::meanInfluence)
                .thenComparingInt(Entry::layer).thenComparingInt(Entry::feature));
        return entries;
    }

    static StructType schema() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField("layer", DataTypes.IntegerType, false),
                DataTypes.createStructField("feature", DataTypes.IntegerType, false),
                DataTypes.createStructField("graphs", DataTypes.IntegerType, false),
                DataTypes.createStructField("mean_influence", DataTypes.DoubleType, false),
                DataTypes.createStructField("slugs", DataTypes.createArrayType(DataTypes.StringType, false), false)));
    }

    static void writeParquet(SparkSession spark, List<Entry> entries, Path directory) {
        List<Row> data = entries.stream().map(e -> RowFactory.create(e.layer(), e.feature(), e.graphs(),
                e.meanInfluence(), e.slugs())).toList();
        spark.createDataFrame(data, schema()).coalesce(1).write().mode(SaveMode.Overwrite)
                .parquet(directory.toAbsolutePath().toString());
    }
}
