package org.circuittracer.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark add-on archive as a user gets it: unpacked where the base archive was unpacked, it adds
 * {@code circuit-tracer/spark/} and only that; the base archive holds none of it; the add-on's jar names a class path
 * that resolves inside the installation, with Spark's Jackson instead of the base tool's; and
 * {@code bin/circuit-tracer batch} and {@code features --master} then run. Runs in the integration-test phase, after the
 * archives are built.
 */
class SparkAddOnArchiveTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path unpacked;

    private static Path home;
    private static Path base;
    private static Path addOn;

    @BeforeAll
    static void unpack() throws Exception {
        base = Path.of(System.getProperty("circuittracer.archive"));
        addOn = Path.of(System.getProperty("circuittracer.sparkArchive"));
        assertThat(base).exists();
        assertThat(addOn).exists();
        for (Path archive : List.of(base, addOn)) {
            Processes.Result tar = exec(List.of("tar", "xzf", archive.toString(), "-C", unpacked.toString()));
            assertThat(tar.exit()).as(tar.out()).isZero();
        }
        home = unpacked.resolve("circuit-tracer");
    }

    private static Processes.Result exec(List<String> command) throws IOException, InterruptedException {
        return Processes.run(command, Map.of(), Duration.ofSeconds(180));
    }

    private static List<String> entries(Path archive) throws IOException, InterruptedException {
        Processes.Result list = exec(List.of("tar", "tzf", archive.toString()));
        assertThat(list.exit()).as(list.out()).isZero();
        return Arrays.stream(list.out().split("\n")).filter(l -> !l.isBlank()).toList();
    }

    @Test
    void theBaseArchiveHoldsNoneOfTheAddOnAndTheAddOnOnlySpark() throws Exception {
        List<String> baseEntries = entries(base);
        assertThat(baseEntries).anyMatch(e -> e.startsWith("circuit-tracer/lib/circuit-tracer-cli-"))
                .noneMatch(e -> e.startsWith("circuit-tracer/spark"))
                .noneMatch(e -> e.matches(".*/(spark-core|scala-library|hadoop-client-api)[^/]*\\.jar"));
        List<String> addOnEntries = entries(addOn);
        assertThat(addOnEntries).isNotEmpty().allMatch(e -> e.equals("circuit-tracer/")
                || e.startsWith("circuit-tracer/spark/"));
        assertThat(addOnEntries).contains("circuit-tracer/spark/circuit-tracer-spark.jar");
    }

    @Test
    void theAddOnHoldsOnlyJarsTheBaseToolLacksAndItsLicences() throws IOException {
        Set<String> own = names(home.resolve("spark/lib"));
        assertThat(own).anyMatch(n -> n.startsWith("spark-core_2.13-")).anyMatch(n -> n.startsWith("scala-library-"))
                .anyMatch(n -> n.startsWith("jackson-databind-2.21."));
        Set<String> shared = names(home.resolve("lib"));
        shared.addAll(names(home.resolve("bundles")));
        assertThat(own).as("jars the base tool already has").doesNotContainAnyElementsOf(shared);
        assertThat(home.resolve("spark/lib")).isDirectoryNotContaining("glob:**.pom");

        String thirdParty = Files.readString(home.resolve("spark/licenses/THIRD-PARTY.txt"));
        assertThat(thirdParty).contains("org.apache.spark:spark-core_2.13:").contains("org.scala-lang:scala-library:")
                .contains("Apache").doesNotContain("not declared");
    }

    @Test
    void theAddOnJarNamesAClassPathInsideTheInstallationWithSparksJackson() throws IOException {
        Path jar = home.resolve("spark/circuit-tracer-spark.jar");
        Manifest manifest;
        try (JarFile file = new JarFile(jar.toFile())) {
            manifest = file.getManifest();
            assertThat(file.getEntry("org/circuittracer/spark/SparkBatchEngine.class")).isNotNull();
            assertThat(file.getEntry("META-INF/services/org.circuittracer.cli.batch.BatchEngine")).isNotNull();
        }
        Attributes main = manifest.getMainAttributes();
        assertThat(main.getValue("Main-Class")).isEqualTo("org.circuittracer.cli.CircuitTracerCommand");
        assertThat(main.getValue("Add-Opens")).contains("java.base/sun.nio.ch");
        List<String> classPath = List.of(main.getValue("Class-Path").split(" "));
        for (String entry : classPath) {
            assertThat(entry).matches("(lib|\\.\\./lib|\\.\\./bundles)/[^/]+\\.jar");
            assertThat(jar.resolveSibling(entry)).as(entry).isRegularFile();
        }
        assertThat(classPath).anyMatch(e -> e.startsWith("../lib/circuit-tracer-cli-"))
                .anyMatch(e -> e.startsWith("../lib/circuit-tracer-demo-"))
                .anyMatch(e -> e.startsWith("../bundles/circuit-tracer-backend-djl-"))
                .anyMatch(e -> e.startsWith("lib/spark-sql_2.13-"))
                .noneMatch(e -> e.contains("slf4j-simple"));
        List<String> jackson = classPath.stream().filter(e -> e.contains("/jackson-databind-")).toList();
        assertThat(jackson).singleElement().asString().startsWith("lib/jackson-databind-2.21.");
        assertThat(Set.copyOf(classPath)).hasSameSizeAs(classPath);

        // the same class path, relative to the installation, for spark-submit and cluster class paths
        List<String> listed = Files.readAllLines(home.resolve("spark/classpath.txt"), StandardCharsets.UTF_8);
        assertThat(listed).hasSameSizeAs(classPath);
        for (int i = 0; i < listed.size(); i++) {
            assertThat(home.resolve(listed.get(i)).normalize()).as(listed.get(i))
                    .isEqualTo(jar.resolveSibling(classPath.get(i)).normalize());
        }
    }

    @Test
    void batchRunsFromTheUnpackedArchives(@TempDir Path work) throws Exception {
        Path prompts = work.resolve("prompts.jsonl");
        List<String> model;
        if (Processes.demoPresent(home)) {
            model = List.of();
            Files.writeString(prompts, """
                    {"prompt": "Fact: the capital of the state containing Dallas is", "slug": "dallas"}
                    {"prompt": "Fact: the capital of the state containing Oakland is"}
                    {"prompt": "Fact: the capital of the state containing Nowhere-at-all is", "target": "#99999"}
                    """, StandardCharsets.UTF_8);
        } else {
            model = List.of("--model", SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                    SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString());
            Files.writeString(prompts, """
                    {"prompt_ids": [0, 113, 47, 97, 94, 63], "slug": "dallas"}
                    {"prompt_ids": [0, 5, 17, 42, 9]}
                    {"prompt_ids": [0, 5, 17], "target": "#99999"}
                    """, StandardCharsets.UTF_8);
        }
        Path out = work.resolve("out");
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/circuit-tracer").toString(), "batch",
                "--prompts", prompts.toString(), "--out", out.toString(), "--master", "local[1]", "--partitions", "2",
                "--quiet"));
        command.addAll(model);
        Processes.Result r = exec(command);

        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("3 prompts: 2 graphs written, 0 skipped (--resume), 1 failed");
        JsonNode graph = JSON.readTree(out.resolve("graphs/dallas.json").toFile());
        assertThat(graph.get("nodes").size()).isPositive();
        assertThat(JSON.readTree(out.resolve("graphs/graph-metadata.json").toFile()).get("graphs")).hasSize(2);
        List<String> summary = Files.readAllLines(out.resolve("summary.csv"), StandardCharsets.UTF_8);
        assertThat(summary).hasSize(4);
        assertThat(summary.get(1)).startsWith("dallas,");
        assertThat(out.resolve("summary.parquet")).isDirectory();

        Processes.Result osgi = exec(List.of(home.resolve("bin/circuit-tracer").toString(), "--osgi", "batch", "--prompts",
                prompts.toString(), "--out", out.toString()));
        assertThat(osgi.exit()).isEqualTo(2);
        assertThat(osgi.out()).contains("leave out --osgi");
    }

    @Test
    void featuresWithMasterRunsFromTheUnpackedArchives(@TempDir Path work) throws Exception {
        Path corpus = Files.writeString(work.resolve("corpus.txt"), """
                the man was on the water
                she said that it was a good day
                they went back
                the cat was on the
                """, StandardCharsets.UTF_8);
        Path out = work.resolve("features");
        Processes.Result r = exec(List.of(home.resolve("bin/circuit-tracer").toString(), "features", "--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--corpus", corpus.toString(),
                "--output-dir", out.toString(), "--master", "local[1]", "--partitions", "2", "--top-k", "3",
                "--quiet"));

        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("Corpus: 4 documents").contains(" in 2 partitions;");
        assertThat(out.resolve("dashboards.json")).isNotEmptyFile();
        assertThat(out.resolve("index.json.gz")).isNotEmptyFile();
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(java.util.TreeSet::new));
        }
    }
}
