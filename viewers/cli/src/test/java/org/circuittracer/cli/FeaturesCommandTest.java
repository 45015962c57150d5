package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.dashboards.FeatureDashboard;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardReader;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code circuit-tracer features} in-process on the tiny llama with its per-layer and cross-layer transcoders. */
class FeaturesCommandTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static Path model() {
        return SharedFixtures.resolve("tiny-models/llama");
    }

    private static String goldenIds() {
        try (SafetensorsFile golden = SafetensorsFile.open(model().resolve("golden.safetensors"))) {
            return Arrays.stream(golden.readInts("p1.input_ids")).mapToObj(Integer::toString)
                    .collect(Collectors.joining(","));
        }
    }

    @Test
    void packedDashboardsCoverEveryFeatureNodeOfAGraphOfTheSameTranscoders(@TempDir Path dir) throws IOException {
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        Path corpus = Files.writeString(dir.resolve("corpus.jsonl"), "{\"tokens\": [" + goldenIds() + "]}\n"
                + "{\"text\": \"the man was on the water and she said that it was a good day\"}\n"
                + "\"they went back to the old place\"\n[0, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]\n");
        Path features = dir.resolve("features");
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--corpus", corpus.toString(), "--output-dir",
                features.toString(), "--top-k", "3", "--max-sequence-length", "12", "--batch-size", "2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Wrote").contains("packed layout").contains("4 documents");
        assertThat(r.err()).contains("Loading model").contains("corpus").contains("done in");
        assertThat(features.resolve("index.json.gz")).exists();

        CircuitTracerCommandTest.Run graph = CircuitTracerCommandTest.run("attribute", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--prompt-ids", goldenIds(), "--slug", "g",
                "--graph-file-dir", dir.toString(), "--quiet");
        assertThat(graph.exit()).as(graph.err()).isZero();
        JsonNode json = MAPPER.readTree(dir.resolve("g.json").toFile());
        DashboardReader reader = DashboardReader.open(features);
        assertThat(reader.layout()).isEqualTo(DashboardLayout.PACKED);
        assertThat(reader.scan()).contains(json.get("metadata").get("scan").asText());
        int featureNodes = 0;
        for (JsonNode node : json.get("nodes")) {
            if (node.get("feature_type").asText().equals("cross layer transcoder")) {
                featureNodes++;
                FeatureDashboard d = reader.read(node.get("feature").asLong()).orElseThrow();
                assertThat(d.layer()).isEqualTo(Integer.parseInt(node.get("layer").asText()));
                assertThat(node.get("node_id").asText()).startsWith(d.layer() + "_" + d.feature() + "_");
                assertThat(d.actMax()).isGreaterThanOrEqualTo((float) node.get("activation").asDouble() - 1e-5f);
                assertThat(d.groups().get(0).examples()).isNotEmpty().hasSizeLessThanOrEqualTo(3);
                assertThat(d.topLogits()).hasSize(10);
            }
        }
        assertThat(featureNodes).isPositive();
    }

    @Test
    void jsonLayoutForACrossLayerTranscoderFromATextCorpus(@TempDir Path dir) throws IOException {
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-clt-relu");
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "the man was on the water\n\nthey went back\n"
                + "she said that it was a good day\n");
        Path out = dir.resolve("out");
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--corpus", corpus.toString(), "--output-dir",
                out.toString(), "--layout", "json", "--quantile-bands", "0", "--output-tokens", "3", "--scan",
                "./features/llama-clt", "--quiet");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("json layout").contains("scan ./features/llama-clt").contains("3 documents");
        DashboardReader reader = DashboardReader.open(out);
        assertThat(reader.layout()).isEqualTo(DashboardLayout.JSON);
        List<Path> files;
        try (var list = Files.list(out)) {
            files = list.filter(p -> p.getFileName().toString().matches("\\d+\\.json")).toList();
        }
        assertThat(files).isNotEmpty();
        JsonNode one = MAPPER.readTree(files.get(0).toFile());
        assertThat(one.get("transcoder_id").asText()).isEqualTo("./features/llama-clt");
        assertThat(one.get("examples_quantiles")).hasSize(1);
        assertThat(one.get("top_logits")).hasSize(3);
        assertThat(reader.read(one.get("index").asLong())).isPresent();
    }

    @Test
    void helpShowsExamplesAndBadArgumentsExitWithTwo(@TempDir Path dir) throws IOException {
        CircuitTracerCommandTest.Run help = CircuitTracerCommandTest.run("features", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("Examples").contains("--layout").contains("--top-k").contains("default: 20")
                .contains("--max-sequence-length").contains("--scan");
        assertThat(CircuitTracerCommandTest.run("--help").out()).contains("features");

        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        Path corpus = Files.writeString(dir.resolve("c.txt"), "the man\n");
        for (String[] bad : List.of(new String[] {"--layout", "zip"}, new String[] {"--top-k", "0"},
                new String[] {"--max-sequence-length", "1"}, new String[] {"--corpus-format", "csv"},
                new String[] {"--quantile-bands", "101"})) {
            CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                    "--transcoders", transcoders.toString(), "--corpus", corpus.toString(), "--output-dir",
                    dir.resolve("o").toString(), bad[0], bad[1]);
            assertThat(r.exit()).as(bad[0]).isEqualTo(2);
            assertThat(r.err()).as(bad[0]).contains(bad[0]).doesNotContain("Loading model");
        }
        CircuitTracerCommandTest.Run missing = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--corpus", dir.resolve("absent.txt").toString(),
                "--output-dir", dir.resolve("o").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: [FILE_NOT_FOUND]").contains("absent.txt");

        Path unknownWords = Files.writeString(dir.resolve("u.jsonl"), "\"the man\"\n[0, 99999]\n");
        CircuitTracerCommandTest.Run outOfVocabulary = CircuitTracerCommandTest.run("features", "--model",
                model().toString(), "--transcoders", transcoders.toString(), "--corpus", unknownWords.toString(),
                "--output-dir", dir.resolve("o").toString(), "--quiet");
        assertThat(outOfVocabulary.exit()).isEqualTo(2);
        assertThat(outOfVocabulary.err()).startsWith("error: [INVALID_ARGUMENT] Document 2 of the corpus");
    }

    @Test
    void aDirectoryCorpusIsItsFilesInNameOrderAndMasterNeedsTheSparkAddOn(@TempDir Path dir) throws IOException {
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        Path whole = Files.writeString(dir.resolve("whole.txt"), "the man was on the water\nthey went back\n"
                + "she said that it was a good day\n");
        Path parts = Files.createDirectories(dir.resolve("parts"));
        Files.writeString(parts.resolve("b.jsonl"), "{\"text\": \"she said that it was a good day\"}\n");
        Files.writeString(parts.resolve("a.txt"), "the man was on the water\n\nthey went back\n");
        Files.writeString(parts.resolve("_SUCCESS"), "");
        for (Path corpus : List.of(whole, parts)) {
            CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                    "--transcoders", transcoders.toString(), "--corpus", corpus.toString(), "--output-dir",
                    dir.resolve("out-" + corpus.getFileName()).toString(), "--quiet");
            assertThat(r.exit()).as(r.err()).isZero();
        }
        for (String name : List.of("dashboards.json", "index.json.gz", "layer_0.bin", "layer_3.bin")) {
            assertThat(Files.readAllBytes(dir.resolve("out-parts").resolve(name))).as(name)
                    .isEqualTo(Files.readAllBytes(dir.resolve("out-whole.txt").resolve(name)));
        }

        CircuitTracerCommandTest.Run parquet = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--corpus", dir.resolve("c.parquet").toString(),
                "--output-dir", dir.resolve("o").toString());
        assertThat(parquet.exit()).isEqualTo(2);
        assertThat(parquet.err()).contains("--master");

        // the base tool has no dashboards engine: say how to get the Spark add-on
        CircuitTracerCommandTest.Run spark = CircuitTracerCommandTest.run("features", "--model", model().toString(),
                "--transcoders", transcoders.toString(), "--corpus", whole.toString(), "--output-dir",
                dir.resolve("o").toString(), "--master", "local[2]");
        assertThat(spark.exit()).isEqualTo(2);
        assertThat(spark.err()).startsWith("error: [MISSING_CAPABILITY]").contains("circuit-tracer-spark")
                .contains("-pl distribution/spark");
    }
}
