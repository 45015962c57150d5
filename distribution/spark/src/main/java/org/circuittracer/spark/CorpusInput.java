package org.circuittracer.spark;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.CorpusDocument;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A corpus as Spark reads it: text or JSON Lines files line by line (one file, or a directory's files in name order,
 * as the single-machine {@link Corpus#read} reads them), or Parquet rows (the {@code text} column). Lines keep their
 * file and number, so the partitions, taken in order, are the corpus in order.
 *
 * @param kind  how lines become documents
 * @param files the files, in corpus order (for Parquet: the one path given)
 */
record CorpusInput(Kind kind, List<String> files) implements Serializable {

    /** How a line becomes a document. */
    enum Kind {
        TEXT, JSONL, PARQUET
    }

    /**
     * What {@code corpus} holds, as {@code format} ({@code auto}, {@code text}, {@code jsonl}, {@code parquet}) says or
     * its names imply.
     */
    static CorpusInput of(Path corpus, String format) {
        boolean directory = Files.isDirectory(corpus);
        List<Path> files = directory ? Corpus.files(corpus) : List.of(corpus);
        boolean parquet = files.stream().anyMatch(f -> name(f).endsWith(".parquet"));
        Kind kind = switch (format) {
            case "text" -> Kind.TEXT;
            case "jsonl" -> Kind.JSONL;
            case "parquet" -> Kind.PARQUET;
            case "auto" -> parquet ? Kind.PARQUET : kindOfTextFiles(corpus, files);
            default -> throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The corpus format must be "
                    + "auto, text, jsonl or parquet, got '" + format + "'.");
        };
        if (kind == Kind.PARQUET) {
            return new CorpusInput(kind, List.of(corpus.toAbsolutePath().toString()));
        }
        return new CorpusInput(kind, files.stream().map(f -> f.toAbsolutePath().toString()).toList());
    }

    /** The single-machine rule per file ({@link Corpus.Format#of}); one engine pass needs one format for all. */
    private static Kind kindOfTextFiles(Path corpus, List<Path> files) {
        List<Corpus.Format> formats = files.stream().map(Corpus.Format::of).distinct().toList();
        if (formats.size() > 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The corpus directory " + corpus
                    + " mixes text and JSON Lines files; give --corpus-format text or jsonl, or keep one kind of file.");
        }
        return formats.get(0) == Corpus.Format.JSONL ? Kind.JSONL : Kind.TEXT;
    }

    private static String name(Path p) {
        return p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
    }

    /**
     * The lines, in corpus order across partitions: each file's lines in its own partitions, files one after the
     * other, split about {@code partitions} ways (0: Spark's default parallelism). With {@code partitions > 0} the lines
     * are range-partitioned by their order into exactly that many where the files do not split so.
     */
    JavaRDD<CorpusLine> lines(SparkSession spark, int partitions) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<JavaRDD<CorpusLine>> parts = new ArrayList<>();
        if (kind == Kind.PARQUET) {
            Dataset<Row> rows = spark.read().parquet(files.get(0));
            StructField text = java.util.Arrays.stream(rows.schema().fields())
                    .filter(f -> f.name().equals("text")).findFirst().orElseThrow(() -> new CircuitTracerException(
                            StandardErrorCode.MALFORMED_FILE, "The Parquet corpus " + files.get(0) + " has no text "
                            + "column (it has " + String.join(", ", rows.schema().fieldNames()) + "). Give one "
                            + "document a row in a string column named text."));
            if (!text.dataType().equals(DataTypes.StringType)) {
                throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "The text column of the Parquet "
                        + "corpus " + files.get(0) + " holds " + text.dataType().simpleString() + ", not strings.");
            }
            parts.add(rows.select("text").javaRDD().zipWithIndex()
                    .map(t -> new CorpusLine(0, t._2() + 1, t._1().isNullAt(0) ? null : t._1().getString(0))));
        } else {
            // without a request, as many splits as Spark runs tasks at once (small files give fewer)
            int target = partitions > 0 ? partitions : jsc.defaultParallelism();
            int perFile = Math.max(1, target / files.size());
            for (int i = 0; i < files.size(); i++) {
                int file = i;
                String uri = Path.of(files.get(i)).toUri().toString();
                String name = files.get(i);
                // the lines' bytes decoded strictly, as the single pass does (Spark's textFile would put U+FFFD in
                // place of invalid bytes, and the dashboards would differ from the single pass's refusal)
                parts.add(jsc.hadoopFile(uri, org.apache.hadoop.mapred.TextInputFormat.class,
                                org.apache.hadoop.io.LongWritable.class, org.apache.hadoop.io.Text.class, perFile)
                        .map(pair -> Utf8Line.decode(pair._2().getBytes(), pair._2().getLength()))
                        .zipWithIndex().map(t -> new CorpusLine(file, t._2() + 1, t._1().text(name, t._2() + 1))));
            }
        }
        JavaRDD<CorpusLine> all = parts.size() == 1 ? parts.get(0)
                : jsc.union(parts.toArray(JavaRDD[]::new));
        if (partitions > 0 && all.getNumPartitions() != partitions) {
            all = all.sortBy(CorpusLine::order, true, partitions);
        }
        return all;
    }

    /** Where a line is, for messages: "line 3 of FILE" or "row 3 of DIR". */
    String where(CorpusLine line) {
        return (kind == Kind.PARQUET ? "row " : "line ") + line.number() + " of " + files.get(line.file());
    }

    /** The document of a line; null for a blank line or a null cell (skipped, as blank lines are). */
    CorpusDocument document(CorpusLine line) {
        if (line.text() == null) {
            return null;
        }
        Corpus.Format format = kind == Kind.JSONL ? Corpus.Format.JSONL : Corpus.Format.TEXT;
        return Corpus.line(Path.of(files.get(line.file())), format, line.number(), line.text()).orElse(null);
    }
}
