package org.circuittracer.spark;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import org.circuittracer.attribution.io.AtomicFiles;
import org.circuittracer.cli.PromptAttribution;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The summary table of a batch, one row per prompt in input order: as Parquet (list columns as arrays) and as CSV
 * (list columns as JSON arrays, so tokens with commas or spaces survive).
 */
final class SummaryTable {

    static final List<String> COLUMNS = List.of("slug", "prompt", "status", "error", "top_logits", "top_logit_probs",
            "replacement_score", "completeness_score", "nodes", "links", "seconds", "top_features",
            "top_feature_influence");

    private static final ObjectMapper JSON = new ObjectMapper();

    private SummaryTable() {
    }

    static void writeCsv(List<SummaryRow> rows, Path file) {
        StringBuilder csv = new StringBuilder(String.join(",", COLUMNS)).append("\r\n");
        for (SummaryRow r : rows) {
            List<String> cells = new ArrayList<>();
            for (Object value : values(r)) {
                cells.add(cell(value));
            }
            csv.append(String.join(",", cells)).append("\r\n");
        }
        AtomicFiles.write(file, csv.toString().getBytes(StandardCharsets.UTF_8));
    }

    static void writeParquet(SparkSession spark, List<SummaryRow> rows, Path directory) {
        List<Row> data = rows.stream().map(r -> RowFactory.create(values(r).toArray())).toList();
        spark.createDataFrame(data, schema()).coalesce(1).write().mode(SaveMode.Overwrite)
                .parquet(directory.toAbsolutePath().toString());
    }

    static StructType schema() {
        DataType strings = DataTypes.createArrayType(DataTypes.StringType, false);
        DataType doubles = DataTypes.createArrayType(DataTypes.DoubleType, false);
        List<DataType> types = List.of(DataTypes.StringType, DataTypes.StringType, DataTypes.StringType,
                DataTypes.StringType, strings, doubles, DataTypes.DoubleType, DataTypes.DoubleType,
                DataTypes.IntegerType, DataTypes.IntegerType, DataTypes.DoubleType, strings, doubles);
        List<StructField> fields = new ArrayList<>();
        for (int i = 0; i < COLUMNS.size(); i++) {
            fields.add(DataTypes.createStructField(COLUMNS.get(i), types.get(i), i != 0 && i != 1 && i != 2));
        }
        return DataTypes.createStructType(fields);
    }

    private static List<Object> values(SummaryRow r) {
        List<Object> v = new ArrayList<>();
        v.add(r.slug());
        v.add(r.prompt());
        v.add(r.status());
        v.add(r.error());
        v.add(r.topLogits());
        v.add(r.topLogitProbs());
        v.add(finiteOrNull(r.replacementScore()));
        v.add(finiteOrNull(r.completenessScore()));
        v.add(r.nodes());
        v.add(r.links());
        v.add(r.seconds());
        v.add(first(r.features()));
        v.add(first(r.influences()));
        return v;
    }

    private static <T> List<T> first(List<T> all) {
        return all.subList(0, Math.min(PromptAttribution.SUMMARY_ENTRIES, all.size()));
    }

    private static Double finiteOrNull(Double d) {
        return d == null || !Double.isFinite(d) ? null : d;
    }

    /** A CSV cell (RFC 4180): lists as JSON, quoted when it holds a comma, quote or line break. */
    private static String cell(Object value) {
        if (value == null) {
            return "";
        }
        String text;
        try {
            text = value instanceof List<?> list ? JSON.writeValueAsString(list) : value.toString();
        } catch (JsonProcessingException e) {
            throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Cannot write a summary cell: " + e, e);
        }
        if (text.contains(",") || text.contains("\"") || text.contains("\n") || text.contains("\r")) {
            return "\"" + text.replace("\"", "\"\"") + "\"";
        }
        return text;
    }
}
