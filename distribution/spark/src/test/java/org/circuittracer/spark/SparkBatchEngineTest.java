package org.circuittracer.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import org.circuittracer.cli.CircuitTracerCommand;
import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.OpenedModel;
import org.circuittracer.cli.PromptAttribution;
import org.circuittracer.cli.batch.BatchOutcome;
import org.circuittracer.cli.batch.BatchProgress;
import org.circuittracer.cli.batch.BatchRequest;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.testkit.SharedFixtures;

import picocli.CommandLine;

/**
 * Batch attribution on Spark in this JVM ({@code local[2]}) on the tiny llama fixture: outputs equal to the
 * single-machine pipeline, bad prompts as failed rows, {@code --resume} through the command line, and a task whose first
 * attempt dies leaving exactly one complete output per prompt. The tests share one output directory, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkBatchEngineTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** The command line's defaults. */
    private static final PromptAttribution.Settings SETTINGS =
            new PromptAttribution.Settings(10, 0.95, 7500, 256, 0.8, 0.98, false);
    private static final String CAT = "the cat was on the";

    @TempDir
    static Path dir;

    private static Path model;
    private static Path transcoders;
    private static ModelSpec spec;
    private static Path prompts;

    @BeforeAll
    static void fixtures() throws IOException {
        model = SharedFixtures.resolve("tiny-models/llama");
        transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        spec = new ModelSpec(model.toAbsolutePath().toString(), transcoders.toAbsolutePath().toString(), false,
                transcoders.toString(), null, null, Precision.FLOAT32, null, null, "exact");
        prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"prompt_ids\": [0, 5, 17, 42, 9], \"slug\": \"ids\"}",
                "{\"prompt\": \"" + CAT + "\"}",
                "{\"prompt_ids\": [0, 999], \"slug\": \"unknown-token\"}",
                "",
                "{\"prompt\": \"\"}",
                "{\"prompt\": \"" + CAT + "\", \"slug\": \"ids\"}") + "\n", StandardCharsets.UTF_8);
    }

    @Test
    @Order(1)
    void writesWhatAttributeWritesAndRecordsBadPromptsAsFailedRows() throws IOException {
        Path out = dir.resolve("out");
        List<long[]> progress = new ArrayList<>();
        BatchOutcome outcome = new SparkBatchEngine().run(request(out, "local[2]", false, Set.of()),
                recording(progress));

        assertThat(outcome.total()).isEqualTo(5);
        assertThat(outcome.written()).isEqualTo(2);
        assertThat(outcome.failed()).isEqualTo(3);
        assertThat(outcome.failures()).anySatisfy(f -> assertThat(f).startsWith("unknown-token: ")
                .contains("Token id 999", "outside the vocabulary"));
        assertThat(outcome.failures()).anySatisfy(f -> assertThat(f).contains("tokenizes to no token"));
        assertThat(outcome.failures()).anySatisfy(f -> assertThat(f).startsWith("row-6: ")
                .contains("already used by prompt 1"));
        assertThat(progress).isNotEmpty();
        assertThat(progress.get(progress.size() - 1)).containsExactly(5, 5);
        assertThat(ExecutorModels.opens()).as("the model is opened once per JVM").isEqualTo(1);

        Path reference = singleMachine(dir.resolve("reference"));
        OutputLayout layout = new OutputLayout(out);
        for (String slug : List.of("ids", PromptAttribution.defaultSlug(CAT))) {
            assertThat(withoutCreationTime(layout.graphJson(slug)))
                    .isEqualTo(withoutCreationTime(reference.resolve(slug + ".json")));
            assertThat(Files.readAllBytes(layout.graphFile(slug)))
                    .isEqualTo(Files.readAllBytes(reference.resolve(slug + PromptAttribution.GRAPH_FILE_SUFFIX)));
        }
        JsonNode index = MAPPER.readTree(layout.index().toFile());
        assertThat(index.get("graphs")).extracting(g -> g.get("slug").asText())
                .containsExactly("ids", "the-cat-was-on-the");

        List<List<String>> csv = csv(layout.summaryCsv());
        assertThat(csv.get(0)).containsExactlyElementsOf(SummaryTable.COLUMNS);
        assertThat(csv).hasSize(6);
        assertThat(csv.get(1)).startsWith("ids", "0,5,17,42,9", "ok", "");
        assertThat(Double.parseDouble(csv.get(1).get(6))).isBetween(0.0, 1.0);
        assertThat(MAPPER.readTree(csv.get(1).get(4)).size()).isPositive();
        assertThat(csv.get(3)).startsWith("unknown-token", "0,999", "failed");
        assertThat(csv.get(3).get(3)).contains("Token id 999");

        SparkSession spark = SparkSession.builder().master("local[1]").appName("read summary").getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(layout.summaryParquet().toString()).orderBy("slug").collectAsList();
            assertThat(rows).extracting(r -> r.<String>getAs("slug"))
                    .containsExactly("graph", "ids", "row-6", "the-cat-was-on-the", "unknown-token");
            Row ids = rows.get(1);
            assertThat(ids.<String>getAs("status")).isEqualTo("ok");
            assertThat(ids.getList(ids.fieldIndex("top_features"))).isNotEmpty();
            assertThat(ids.<Integer>getAs("nodes")).isEqualTo(Integer.parseInt(csv.get(1).get(8)));
            List<Row> features = spark.read().parquet(layout.featuresParquet().toString()).collectAsList();
            assertThat(features).isNotEmpty().allSatisfy(f -> assertThat(f.<Integer>getAs("graphs")).isBetween(1, 2));
            assertThat(features.get(0).getList(features.get(0).fieldIndex("slugs")))
                    .isSubsetOf("ids", "the-cat-was-on-the");
            featuresJsonAgreesWithParquet(layout, features);
        } finally {
            spark.stop();
        }
    }

    /** The viewer's JSON holds the Parquet table's rows in its order, with node ids that the graphs do have. */
    private static void featuresJsonAgreesWithParquet(OutputLayout layout, List<Row> parquet) throws IOException {
        JsonNode doc = MAPPER.readTree(layout.featuresJson().toFile());
        assertThat(layout.featuresJson().getParent()).isEqualTo(layout.graphDirectory());
        assertThat(doc.get("format").asText()).isEqualTo(FeaturesJson.FORMAT);
        assertThat(doc.get("graphs_total").asInt()).isEqualTo(2);
        assertThat(doc.get("features_total").asInt()).isEqualTo(parquet.size());
        JsonNode rows = doc.get("features");
        assertThat(rows).hasSize(Math.min(parquet.size(), FeaturesJson.MAX_FEATURES));
        for (int i = 0; i < rows.size(); i++) {
            JsonNode j = rows.get(i);
            Row p = parquet.get(i);
            int layer = p.<Integer>getAs("layer");
            int feature = p.<Integer>getAs("feature");
            assertThat(j.get("layer").asInt()).isEqualTo(layer);
            assertThat(j.get("feature").asInt()).isEqualTo(feature);
            assertThat(j.get("feature_id").asLong()).isEqualTo(org.circuittracer.attribution.export.FeatureIds
                    .pair(layer, feature));
            assertThat(j.get("graphs").asInt()).isEqualTo(p.<Integer>getAs("graphs"));
            assertThat(j.get("mean_influence").asDouble()).isEqualTo(p.<Double>getAs("mean_influence"));
            assertThat(j.get("min_influence").asDouble()).isLessThanOrEqualTo(j.get("mean_influence").asDouble());
            assertThat(j.get("max_influence").asDouble()).isGreaterThanOrEqualTo(j.get("mean_influence").asDouble());
            List<String> slugs = new ArrayList<>();
            for (JsonNode a : j.get("appears_in")) {
                slugs.add(a.get("slug").asText());
                JsonNode graph = MAPPER.readTree(layout.graphJson(a.get("slug").asText()).toFile());
                List<String> ids = new ArrayList<>();
                graph.get("nodes").forEach(n -> ids.add(n.get("node_id").asText()));
                assertThat(a.get("node_ids")).isNotEmpty().allSatisfy(n -> assertThat(n.asText())
                        .startsWith(layer + "_" + feature + "_").isIn(ids));
            }
            assertThat(slugs).isEqualTo(p.getList(p.fieldIndex("slugs")));
        }
    }

    @Test
    @Order(2)
    void resumeThroughTheCommandLineSkipsPromptsWhoseOutputsExist() throws IOException {
        Path out = dir.resolve("out");
        OutputLayout layout = new OutputLayout(out);
        byte[] before = Files.readAllBytes(layout.graphJson("ids"));
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        CommandLine cli = CircuitTracerCommand.commandLine();
        cli.setOut(new PrintWriter(stdout));
        cli.setErr(new PrintWriter(stderr));
        int exit = cli.execute("batch", "--prompts", prompts.toString(), "--out", out.toString(), "--master",
                "local[2]", "--model", model.toString(), "--transcoders", transcoders.toString(), "--resume");

        assertThat(exit).as(stderr.toString()).isZero();
        assertThat(stdout.toString()).contains("5 prompts: 0 graphs written, 2 skipped (--resume), 3 failed");
        assertThat(Files.readAllBytes(layout.graphJson("ids"))).isEqualTo(before);
        List<List<String>> csv = csv(layout.summaryCsv());
        assertThat(csv.get(1)).startsWith("ids", "0,5,17,42,9", "skipped");
        assertThat(csv.get(1).get(8)).isNotEmpty();
        assertThat(MAPPER.readTree(csv.get(1).get(4)).size()).isPositive();
        assertThat(MAPPER.readTree(layout.index().toFile()).get("graphs")).hasSize(2);
    }

    @Test
    @Order(3)
    void aTaskWhoseFirstAttemptDiesLeavesExactlyOneCompleteOutputPerPrompt() throws IOException {
        Path good = dir.resolve("good.jsonl");
        Files.writeString(good, "{\"prompt_ids\": [0, 5, 17, 42, 9], \"slug\": \"ids\"}\n{\"prompt\": \"" + CAT
                + "\"}\n", StandardCharsets.UTF_8);
        Path out = dir.resolve("retried");
        // local[2,2]: two threads, and a failed task is tried twice
        BatchOutcome outcome = new SparkBatchEngine().run(new BatchRequest(good, out, "local[2,2]", spec, SETTINGS,
                false, 1, Set.of("ids")), BatchProgress.SILENT);

        assertThat(outcome.written()).isEqualTo(2);
        OutputLayout layout = new OutputLayout(out);
        assertThat(names(layout.graphDirectory())).containsExactlyInAnyOrder("ids.json", "the-cat-was-on-the.json",
                "graph-metadata.json", "features-across-graphs.json");
        assertThat(names(layout.graphFile("ids").getParent())).containsExactlyInAnyOrder(
                "ids" + PromptAttribution.GRAPH_FILE_SUFFIX, "the-cat-was-on-the" + PromptAttribution.GRAPH_FILE_SUFFIX);
        assertThat(withoutCreationTime(layout.graphJson("ids")))
                .isEqualTo(withoutCreationTime(dir.resolve("reference").resolve("ids.json")));
    }

    @Test
    @Order(4)
    void readsParquetPromptsAndGroupsThemIntoTasks() {
        Path parquet = dir.resolve("prompts.parquet");
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("prompt", DataTypes.StringType, true),
                DataTypes.createStructField("prompt_ids", DataTypes.createArrayType(DataTypes.IntegerType), true),
                DataTypes.createStructField("slug", DataTypes.StringType, true),
                DataTypes.createStructField("target", DataTypes.StringType, true)));
        SparkSession spark = SparkSession.builder().master("local[2]").appName("parquet prompts").getOrCreate();
        try {
            spark.createDataFrame(List.of(RowFactory.create(null, List.of(0, 5, 17, 42, 9), "ids", null),
                    RowFactory.create(CAT, null, null, null), RowFactory.create(CAT, null, "cat-bad-target", "#99999")),
                    schema).coalesce(1).write().parquet(parquet.toString());
            // the session is the caller's: the engine uses it and leaves it running
            BatchOutcome outcome = new SparkBatchEngine().run(new BatchRequest(parquet, dir.resolve("from-parquet"),
                    null, spec, SETTINGS, false, 2, Set.of()), BatchProgress.SILENT);

            assertThat(outcome.written()).isEqualTo(2);
            assertThat(outcome.failures()).singleElement().asString().startsWith("cat-bad-target: ");
            assertThat(spark.sparkContext().isStopped()).isFalse();
        } finally {
            spark.stop();
        }
    }

    @Test
    @Order(5)
    void partitionsSplitThePromptsIntoThatManyTasks() throws Exception {
        Path four = dir.resolve("four.jsonl");
        Files.writeString(four, String.join("\n", "{\"prompt_ids\": [0, 5, 17, 42, 9], \"slug\": \"a\"}",
                "{\"prompt_ids\": [0, 5, 17, 42], \"slug\": \"b\"}", "{\"prompt_ids\": [0, 17, 42, 9], \"slug\": \"c\"}",
                "{\"prompt_ids\": [0, 42, 9], \"slug\": \"d\"}") + "\n", StandardCharsets.UTF_8);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("partitions").getOrCreate();
        List<Integer> tasks = new java.util.concurrent.CopyOnWriteArrayList<>();
        spark.sparkContext().addSparkListener(new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted submitted) {
                if (submitted.stageInfo().name().startsWith("collect at SparkBatchEngine")) {
                    tasks.add(submitted.stageInfo().numTasks());
                }
            }
        });
        try {
            List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
            BatchOutcome two = new SparkBatchEngine().run(new BatchRequest(four, dir.resolve("partitions-2"), null,
                    spec, SETTINGS, false, 1, 2, Set.of()), noting(notes));
            assertThat(two.written()).isEqualTo(4);
            assertThat(notes).contains("Attributing 4 prompts in 2 tasks");
            awaitSize(tasks, 1);
            assertThat(tasks).containsExactly(2);

            BatchOutcome many = new SparkBatchEngine().run(new BatchRequest(four, dir.resolve("partitions-9"), null,
                    spec, SETTINGS, false, 1, 9, Set.of()), noting(notes));
            assertThat(many.written()).isEqualTo(4);
            assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("Attributing 4 prompts in 4 tasks (--partitions 9 "
                    + "is more than there are prompts"));
            awaitSize(tasks, 2);
            assertThat(tasks).containsExactly(2, 4);
            assertThat(withoutCreationTime(dir.resolve("partitions-9/graphs/c.json")))
                    .isEqualTo(withoutCreationTime(dir.resolve("partitions-2/graphs/c.json")));
        } finally {
            spark.stop();
        }
    }

    @Test
    @Order(6)
    void badPartitionsAreRefusedBeforeAnyWork() {
        for (List<String> extra : List.of(List.of("--partitions", "0"), List.of("--partitions", "-3"),
                List.of("--partitions", "2", "--prompts-per-task", "2"))) {
            StringWriter stderr = new StringWriter();
            CommandLine cli = CircuitTracerCommand.commandLine();
            cli.setOut(new PrintWriter(new StringWriter()));
            cli.setErr(new PrintWriter(stderr));
            List<String> args = new ArrayList<>(List.of("batch", "--prompts", prompts.toString(), "--out",
                    dir.resolve("refused").toString(), "--master", "local[1]", "--model", model.toString(),
                    "--transcoders", transcoders.toString()));
            args.addAll(extra);
            int exit = cli.execute(args.toArray(String[]::new));

            assertThat(exit).as(extra.toString()).isEqualTo(2);
            assertThat(stderr.toString()).as(extra.toString()).contains(extra.size() == 2
                    ? "--partitions must be >= 1" : "--partitions and --prompts-per-task both");
        }
        assertThat(dir.resolve("refused")).doesNotExist();
    }

    private static BatchProgress noting(List<String> notes) {
        return new BatchProgress() {
            @Override
            public void note(String message) {
                notes.add(message);
            }

            @Override
            public void graphs(long done, long total) {
            }
        };
    }

    /** Spark's listener bus is asynchronous: waits (up to 30 s) until {@code list} has {@code size} elements. */
    private static void awaitSize(List<?> list, int size) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (list.size() < size && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static BatchRequest request(Path out, String master, boolean resume, Set<String> failFirst) {
        return new BatchRequest(prompts, out, master, spec, SETTINGS, resume, 1, failFirst);
    }

    /** The two good prompts through the pipeline directly, as {@code attribute} runs it. */
    private static Path singleMachine(Path graphs) {
        try (OpenedModel opened = spec.open(message -> { })) {
            opened.pipeline().run(new PromptAttribution.Request(null, new int[] {0, 5, 17, 42, 9}, "ids", null,
                    SETTINGS, graphs, graphs.resolve("ids" + PromptAttribution.GRAPH_FILE_SUFFIX), true, List.of()),
                    AttributionListener.NONE, warning -> { });
            String slug = PromptAttribution.defaultSlug(CAT);
            opened.pipeline().run(new PromptAttribution.Request(CAT, null, slug, null, SETTINGS, graphs,
                    graphs.resolve(slug + PromptAttribution.GRAPH_FILE_SUFFIX), true, List.of()),
                    AttributionListener.NONE, warning -> { });
        }
        return graphs;
    }

    private static JsonNode withoutCreationTime(Path json) throws IOException {
        JsonNode root = MAPPER.readTree(json.toFile());
        ((ObjectNode) root.path("metadata").path("info")).remove("create_time_ms");
        return root;
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    private static BatchProgress recording(List<long[]> calls) {
        return new BatchProgress() {
            @Override
            public void note(String message) {
            }

            @Override
            public synchronized void graphs(long done, long total) {
                calls.add(new long[] {done, total});
            }
        };
    }

    /** The cells of a CSV (RFC 4180 quoting), header first. */
    private static List<List<String>> csv(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted && c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                cell.append('"');
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && (c == ',' || c == '\n')) {
                row.add(cell.toString());
                cell.setLength(0);
                if (c == '\n') {
                    rows.add(row);
                    row = new ArrayList<>();
                }
            } else if (quoted || c != '\r') {
                cell.append(c);
            }
        }
        return rows;
    }
}
