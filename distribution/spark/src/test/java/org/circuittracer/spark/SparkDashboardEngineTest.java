package org.circuittracer.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.circuittracer.cli.CircuitTracerCommand;
import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.batch.DashboardOutcome;
import org.circuittracer.cli.batch.DashboardRequest;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.testkit.SharedFixtures;

import picocli.CommandLine;

/**
 * Dashboards over a corpus on Spark in this JVM ({@code local[2]}) on the tiny llama and its per-layer transcoders:
 * the files equal, byte for byte, those of the single-machine {@code features} command on the same corpus, whether the
 * corpus is a text file (through the command line, {@code --master}), JSON Lines or Parquet, in 2 or 3 partitions;
 * bad documents are reported with their corpus-wide number and line before any model pass.
 */
class SparkDashboardEngineTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> TEXTS = texts();
    /** The command line's options for both runs; documents longer than 16 tokens are split. */
    private static final List<String> SETTINGS = List.of("--max-sequence-length", "16", "--top-k", "5",
            "--quantile-bands", "2", "--examples-per-band", "2", "--output-tokens", "4", "--context-before", "4",
            "--context-after", "2");
    private static final DashboardOptions OPTIONS = DashboardOptions.defaults().withMaxSequenceLength(16)
            .withTopExamples(5).withQuantileBands(2, 2).withOutputTokens(4).withContext(4, 2);

    @TempDir
    static Path dir;

    private static Path model;
    private static Path transcoders;
    private static ModelSpec spec;
    private static Map<String, byte[]> single;

    @BeforeAll
    static void singleMachine() throws IOException {
        model = SharedFixtures.resolve("tiny-models/llama");
        transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        spec = new ModelSpec(model.toAbsolutePath().toString(), transcoders.toAbsolutePath().toString(), false,
                transcoders.toString(), null, null, Precision.FLOAT32, null, null, "exact");
        List<String> lines = new ArrayList<>(TEXTS);
        lines.add(3, "");
        lines.add(9, "   ");
        Files.write(dir.resolve("corpus.txt"), lines, StandardCharsets.UTF_8);
        List<String> json = new ArrayList<>();
        for (String t : TEXTS) {
            json.add(MAPPER.createObjectNode().put("text", t).toString());
        }
        json.add(5, "");
        Files.write(dir.resolve("corpus.jsonl"), json, StandardCharsets.UTF_8);
        assertThat(cli("corpus.txt", "single", null)).isZero();
        single = files(dir.resolve("single"));
        assertThat(single).containsKeys("dashboards.json", "index.json.gz", "layer_0.bin");
    }

    @Test
    void theCommandLineWithMasterWritesTheFilesOfTheSingleMachineCommand() throws IOException {
        assertThat(cli("corpus.txt", "spark-cli", "local[2]")).isZero();
        assertSameFiles(files(dir.resolve("spark-cli")));
    }

    @Test
    void partitionsOnTheCommandLineCutTheCorpusIntoThatManyParts() throws IOException {
        String[] out = new String[2];
        List<String> args = new ArrayList<>(List.of("--master", "local[2]", "--partitions", "4"));
        assertThat(cli("corpus.txt", "spark-cli-4", args, out)).as(out[1]).isZero();
        assertThat(out[0]).contains(TEXTS.size() + " documents").contains(" in 4 partitions;");
        assertSameFiles(files(dir.resolve("spark-cli-4")));

        assertThat(cli("corpus.txt", "spark-cli-0", List.of("--master", "local[2]", "--partitions", "0"), out))
                .isEqualTo(2);
        assertThat(out[1]).contains("--partitions must be >= 1").contains("got 0");
        assertThat(cli("corpus.txt", "spark-cli-none", List.of("--partitions", "2"), out)).isEqualTo(2);
        assertThat(out[1]).contains("--partitions splits the corpus for Spark: add --master");
        assertThat(dir.resolve("spark-cli-0")).doesNotExist();
        assertThat(dir.resolve("spark-cli-none")).doesNotExist();
    }

    @Test
    void jsonLinesAndParquetInSeveralPartitionsGiveTheSameFiles() throws IOException {
        DashboardOutcome jsonl = run("corpus.jsonl", "auto", "spark-jsonl", 3);
        assertThat(jsonl.partitions()).isEqualTo(3);
        assertThat(jsonl.documents()).isEqualTo(TEXTS.size());
        assertThat(jsonl.sequences()).as("long documents are split").isGreaterThan(TEXTS.size());
        assertSameFiles(files(dir.resolve("spark-jsonl")));

        Path parquet = dir.resolve("corpus.parquet");
        SparkSession spark = SparkSession.builder().master("local[1]").appName("write corpus").getOrCreate();
        try {
            List<Row> rows = new ArrayList<>();
            TEXTS.forEach(t -> rows.add(RowFactory.create(t, 1)));
            rows.add(4, RowFactory.create(null, 2)); // a null cell is skipped, as a blank line is
            spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                    DataTypes.createStructField("text", DataTypes.StringType, true),
                    DataTypes.createStructField("source", DataTypes.IntegerType, true))))
                    .coalesce(1).write().parquet(parquet.toString());
        } finally {
            spark.stop();
        }
        DashboardOutcome fromParquet = run("corpus.parquet", "auto", "spark-parquet", 2);
        assertThat(fromParquet.partitions()).isEqualTo(2);
        assertSameFiles(files(dir.resolve("spark-parquet")));
    }

    @Test
    void badDocumentsAreReportedWithTheirCorpusNumberAndLine() throws IOException {
        List<String> lines = new ArrayList<>(TEXTS.subList(0, 6));
        lines.add(4, "[0, 99999]");
        Files.write(dir.resolve("bad-token.jsonl"), lines.stream().map(l -> l.startsWith("[") ? l
                : MAPPER.createObjectNode().put("text", l).toString()).toList(), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> run("bad-token.jsonl", "auto", "bad", 3))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith("Document 5 of the corpus: ").contains("99999")
                            .contains("line 5 of " + dir.resolve("bad-token.jsonl").toAbsolutePath());
                });
        Files.writeString(dir.resolve("bad-json.jsonl"), "{\"text\": \"the man\"}\n\n{\"text\": \n");
        assertThatThrownBy(() -> run("bad-json.jsonl", "jsonl", "bad", 2))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                    assertThat(e.getMessage()).startsWith("Line 3 of the corpus file");
                });
        // bytes that are not UTF-8 are refused as the single pass refuses them, not read as U+FFFD
        byte[] invalid = "the man\nthe dog\nthe \u00ff cat\n".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(invalid, invalid.length);
        int at = new String(bytes, StandardCharsets.UTF_8).indexOf('\u00ff');
        bytes[at] = (byte) 0xff; // a lone 0xff: never valid UTF-8
        Files.write(dir.resolve("bad-bytes.txt"), bytes);
        assertThatThrownBy(() -> run("bad-bytes.txt", "auto", "bad", 2))
                .isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE);
                    assertThat(e.getMessage()).contains("not valid UTF-8").contains("line 3");
                });
        assertThat(dir.resolve("bad")).doesNotExist();
    }

    private static DashboardOutcome run(String corpus, String format, String out, int partitions) {
        List<String> notes = new ArrayList<>();
        Consumer<String> note = notes::add;
        DashboardOutcome outcome = new SparkDashboardEngine().run(new DashboardRequest(dir.resolve(corpus), format,
                dir.resolve(out), DashboardLayout.PACKED, "local[2]", spec, OPTIONS, partitions),
                DashboardListener.NONE, note);
        assertThat(notes).anySatisfy(n -> assertThat(n).startsWith("Starting Spark (local[2])"));
        return outcome;
    }

    private static int cli(String corpus, String out, String master) {
        String[] printed = new String[2];
        int exit = cli(corpus, out, master == null ? List.of() : List.of("--master", master), printed);
        assertThat(exit).as(printed[1]).isZero();
        assertThat(printed[0]).contains("Wrote ").contains(TEXTS.size() + " documents");
        return exit;
    }

    /** {@code features} with the shared settings and {@code extra}; {@code printed} gets stdout and stderr. */
    private static int cli(String corpus, String out, List<String> extra, String[] printed) {
        List<String> args = new ArrayList<>(List.of("features", "--model", model.toString(), "--transcoders",
                transcoders.toString(), "--corpus", dir.resolve(corpus).toString(), "--output-dir",
                dir.resolve(out).toString(), "--quiet"));
        args.addAll(SETTINGS);
        args.addAll(extra);
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        CommandLine cli = CircuitTracerCommand.commandLine();
        cli.setOut(new PrintWriter(stdout));
        cli.setErr(new PrintWriter(stderr));
        int exit = cli.execute(args.toArray(String[]::new));
        printed[0] = stdout.toString();
        printed[1] = stderr.toString();
        return exit;
    }

    private static void assertSameFiles(Map<String, byte[]> files) {
        assertThat(files.keySet()).isEqualTo(single.keySet());
        files.forEach((name, bytes) -> assertThat(bytes).as(name).isEqualTo(single.get(name)));
    }

    private static Map<String, byte[]> files(Path out) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(out)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(out.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    /** Short and long texts of the tiny tokenizer's words; the long ones are split at 16 tokens. */
    private static List<String> texts() {
        String[] base = {"the man was on the water", "she said that it was a good day", "they went back",
            "the cat was on the", "it was a good day and they went back to the water",
            "he said that the man was on the water and she went back"};
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String t = base[i % base.length];
            out.add(i % 5 == 4 ? t + " and " + base[(i + 1) % base.length] + " and " + base[(i + 2) % base.length] : t);
        }
        return out;
    }
}
