package org.circuittracer.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master;
import org.apache.spark.deploy.worker.Worker;
import org.apache.spark.rpc.RpcEnv;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.circuittracer.cli.ModelSpec;
import org.circuittracer.cli.OpenedModel;
import org.circuittracer.cli.PromptAttribution;
import org.circuittracer.cli.batch.BatchOutcome;
import org.circuittracer.cli.batch.BatchProgress;
import org.circuittracer.cli.batch.BatchRequest;
import org.circuittracer.cli.batch.DashboardOutcome;
import org.circuittracer.cli.batch.DashboardRequest;
import org.circuittracer.dashboards.Corpus;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.DashboardOptions;
import org.circuittracer.dashboards.FeatureDashboards;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.testkit.SharedFixtures;

/**
 * A real standalone cluster from Spark's own classes on loopback: a master and two workers in this JVM, whose
 * executors are separate JVMs on this test's class path. A batch runs through them, and the first attempt of one
 * prompt's task dies: every prompt still ends with exactly one complete output. Dashboards over a corpus computed on
 * the executors, in three partitions, equal the single-machine files byte for byte.
 */
class StandaloneClusterTest {

    /** What the driver passes to the executors: our class path, and what Spark's launcher needs without SPARK_HOME. */
    private static final Map<String, String> DRIVER_SETTINGS = Map.of(
            "spark.executor.extraClassPath", System.getProperty("java.class.path"),
            "spark.executor.extraJavaOptions", "-Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1",
            "spark.executor.memory", "512m",
            "spark.executorEnv.SPARK_TESTING", "1",
            "spark.executorEnv.SPARK_SCALA_VERSION", "2.13",
            "spark.driver.host", "127.0.0.1",
            "spark.driver.bindAddress", "127.0.0.1");

    @TempDir
    static Path dir;

    private static RpcEnv master;
    private static List<RpcEnv> workers;
    private static String masterUrl;

    @BeforeAll
    static void startCluster() {
        SharedFixtures.resolve("tiny-models/llama");
        SparkConf conf = new SparkConf(false).set("spark.ui.enabled", "false");
        master = Master.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, conf)._1();
        masterUrl = "spark://127.0.0.1:" + master.address().port();
        workers = List.of(worker(conf, 1), worker(conf, 2));
        DRIVER_SETTINGS.forEach(System::setProperty);
    }

    private static RpcEnv worker(SparkConf conf, int number) {
        return Worker.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, 1, 1024, new String[] {masterUrl},
                dir.resolve("work-" + number).toString(), scala.Option.apply(number), conf.clone(),
                scala.Option.empty());
    }

    @AfterAll
    static void stopCluster() {
        DRIVER_SETTINGS.keySet().forEach(System::clearProperty);
        for (RpcEnv env : workers == null ? List.<RpcEnv>of() : workers) {
            env.shutdown();
            env.awaitTermination();
        }
        if (master != null) {
            master.shutdown();
            master.awaitTermination();
        }
    }

    @Test
    void aBatchRunsOnTwoWorkersAndARetriedTaskLeavesOneCompleteOutput() throws IOException {
        Path model = SharedFixtures.resolve("tiny-models/llama");
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        ModelSpec spec = new ModelSpec(model.toAbsolutePath().toString(), transcoders.toAbsolutePath().toString(),
                false, transcoders.toString(), null, null, Precision.FLOAT32, null, null, "exact");
        Path prompts = dir.resolve("prompts.jsonl");
        Files.writeString(prompts, String.join("\n", "{\"prompt_ids\": [0, 5, 17, 42, 9], \"slug\": \"a\"}",
                "{\"prompt_ids\": [0, 7, 3, 11], \"slug\": \"b\"}", "{\"prompt\": \"the cat was on the\"}",
                "{\"prompt_ids\": [0, 999], \"slug\": \"bad\"}") + "\n", StandardCharsets.UTF_8);
        Path out = dir.resolve("out");

        BatchOutcome outcome = new SparkBatchEngine().run(new BatchRequest(prompts, out, masterUrl, spec,
                new PromptAttribution.Settings(10, 0.95, 7500, 256, 0.8, 0.98, false), false, 1, Set.of("b")),
                BatchProgress.SILENT);

        assertThat(outcome.written()).isEqualTo(3);
        assertThat(outcome.failures()).singleElement().asString().startsWith("bad: ").contains("Token id 999");
        OutputLayout layout = new OutputLayout(out);
        assertThat(names(layout.graphDirectory())).containsExactlyInAnyOrder("a.json", "b.json",
                "the-cat-was-on-the.json", "graph-metadata.json", "features-across-graphs.json");
        assertThat(names(layout.graphFile("a").getParent())).hasSize(3).allMatch(n -> n.endsWith(
                PromptAttribution.GRAPH_FILE_SUFFIX));
        JsonNode b = new ObjectMapper().readTree(layout.graphJson("b").toFile());
        assertThat(b.path("metadata").path("slug").asText()).isEqualTo("b");
        assertThat(b.path("nodes").size()).isPositive();
        assertThat(names(dir.resolve("work-1"))).as("executors ran on the workers").isNotEmpty();
    }

    @Test
    void dashboardsComputedOnTheWorkersEqualOnePassInThisJvm() throws IOException {
        Path model = SharedFixtures.resolve("tiny-models/llama");
        Path transcoders = SharedFixtures.resolve("tiny-transcoders/llama-clt-relu");
        ModelSpec spec = new ModelSpec(model.toAbsolutePath().toString(), transcoders.toAbsolutePath().toString(),
                false, transcoders.toString(), null, null, Precision.FLOAT32, null, null, "exact");
        List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) {
            lines.add(i % 7 == 3 ? "" : List.of("the man was on the water", "she said that it was a good day",
                    "they went back and the cat was on the water and she said that it was a good day").get(i % 3));
        }
        Path corpus = Files.write(dir.resolve("corpus.txt"), lines, StandardCharsets.UTF_8);
        DashboardOptions options = DashboardOptions.defaults().withMaxSequenceLength(12).withTopExamples(4)
                .withQuantileBands(2, 2).withOutputTokens(3);

        DashboardOutcome outcome = new SparkDashboardEngine().run(new DashboardRequest(corpus, "auto",
                dir.resolve("dashboards-cluster"), DashboardLayout.PACKED, masterUrl, spec, options, 3),
                DashboardListener.NONE, message -> { });
        OpenedModel opened = ExecutorModels.get(spec);
        DashboardWriter.write(FeatureDashboards.collect(opened.model(), opened.dictionary(), Corpus.read(corpus),
                options, DashboardListener.NONE), dir.resolve("dashboards-single"), DashboardLayout.PACKED,
                DashboardListener.NONE);

        assertThat(outcome.partitions()).isEqualTo(3);
        List<String> files = names(dir.resolve("dashboards-single"));
        assertThat(names(dir.resolve("dashboards-cluster"))).containsExactlyInAnyOrderElementsOf(files);
        for (String name : files) {
            assertThat(Files.readAllBytes(dir.resolve("dashboards-cluster").resolve(name))).as(name)
                    .isEqualTo(Files.readAllBytes(dir.resolve("dashboards-single").resolve(name)));
        }
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }
}
