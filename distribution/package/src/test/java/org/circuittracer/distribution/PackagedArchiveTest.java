package org.circuittracer.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged archive as a user gets it: unpacked into an empty directory, run through {@code bin/circuit-tracer}
 * in both runtimes. Runs in the integration-test phase, after the archive is built.
 */
class PackagedArchiveTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path unpacked;

    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("circuittracer.archive"));
        assertThat(archive).exists();
        Processes.Result tar = exec(List.of("tar", "xzf", archive.toString(), "-C", unpacked.toString()));
        assertThat(tar.exit()).as(tar.out()).isZero();
        home = unpacked.resolve("circuit-tracer");
    }

    private static Processes.Result exec(List<String> command) throws IOException, InterruptedException {
        return exec(command, Map.of());
    }

    /** Runs with {@code environment} added; the launcher keeps its class-data archives in the test's directory. */
    private static Processes.Result exec(List<String> command, Map<String, String> environment)
            throws IOException, InterruptedException {
        Map<String, String> all = new java.util.HashMap<>(environment);
        all.putIfAbsent("CIRCUIT_TRACER_CDS_DIR", unpacked.resolve("cds").toString());
        return Processes.run(command, all, Duration.ofSeconds(120));
    }

    private static Processes.Result launcher(String... args) throws IOException, InterruptedException {
        return launcher(Map.of(), args);
    }

    private static Processes.Result launcher(Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/circuit-tracer").toString()));
        command.addAll(List.of(args));
        return exec(command, environment);
    }

    @Test
    void theFirstAttributeRunLeavesAClassDataArchiveThatLaterRunsMapQuietly(@TempDir Path work) throws Exception {
        Path cds = work.resolve("cds");
        Map<String, String> environment = Map.of("CIRCUIT_TRACER_CDS_DIR", cds.toString());
        Processes.Result version = launcher(environment, "--version");
        assertThat(version.exit()).as(version.out()).isZero();
        assertThat(cds).as("only attribute writes the archive").doesNotExist();

        List<String> args = new ArrayList<>(List.of("attribute", "--slug", "cds", "--graph-file-dir",
                work.toString(), "--quiet"));
        args.addAll(Processes.demoPresent(home) ? List.of() : List.of("--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--prompt-ids",
                "0,113,47,97,94,63"));
        Processes.Result made = launcher(environment, args.toArray(String[]::new));
        assertThat(made.exit()).as(made.out()).isZero();
        assertThat(made.out()).doesNotContain("[warning][cds");
        try (Stream<Path> files = Files.list(cds)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).as("one archive, no temporary left")
                    .singleElement().asString().matches("classes-\\d+\\.jsa");
        }

        Path loaded = work.resolve("class-load.log");
        Map<String, String> logged = Map.of("CIRCUIT_TRACER_CDS_DIR", cds.toString(),
                "JAVA_OPTS", "-Xlog:class+load=info:file=" + loaded);
        Processes.Result again = launcher(logged, "--version");
        assertThat(again.exit()).as(again.out()).isZero();
        assertThat(again.out().strip().lines()).as("nothing but the version").hasSize(2);
        assertThat(Files.readString(loaded)).as("our classes come from the archive")
                .containsPattern("org\\.circuittracer\\.cli\\.CircuitTracerCommand source: shared objects file \\(top\\)");

        Processes.Result off = launcher(Map.of("CIRCUIT_TRACER_CDS_DIR", cds.toString(), "CIRCUIT_TRACER_CDS", "off",
                "JAVA_OPTS", "-Xlog:class+load=info:file=" + loaded), "--version");
        assertThat(off.exit()).as(off.out()).isZero();
        assertThat(Files.readString(loaded)).as("CIRCUIT_TRACER_CDS=off").doesNotContain("(top)");
    }

    @Test
    void theLayoutHasTheLauncherLibrariesBundlesPluginsAndLicences() throws IOException {
        assertThat(home.resolve("bin/circuit-tracer")).isExecutable();
        assertThat(home.resolve("plugins/README.md")).exists();
        assertThat(home.resolve("README.md")).exists();
        try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()).toList()).anyMatch(n -> n.startsWith("circuit-tracer-cli"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-demo")).anyMatch(n -> n.startsWith("pytorch-native-cpu"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-viewer-web")).anyMatch(n -> n.startsWith("javalin"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-hub"))
                    .noneMatch(n -> n.startsWith("circuit-tracer-backend-djl"))
                    .noneMatch(n -> n.startsWith("circuit-tracer-backend-onnx"))
                    .noneMatch(n -> n.startsWith("circuit-tracer-demo-recipe"));
        }
        try (Stream<Path> bundles = Files.list(home.resolve("bundles"))) {
            assertThat(bundles.map(p -> p.getFileName().toString()).toList())
                    .anyMatch(n -> n.startsWith("circuit-tracer-backend-djl"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-transformer-core"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-onnx-export"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-transcoders-reference"))
                    .anyMatch(n -> n.startsWith("circuit-tracer-hub")); // for plugins reading hf:// references
        }
        String thirdParty = Files.readString(home.resolve("licenses/THIRD-PARTY.txt"));
        assertThat(thirdParty).contains("info.picocli:picocli:4.7.7").contains("Apache").contains("ai.djl:api")
                .doesNotContain("not declared");
    }

    @Test
    void pluginsInBothRuntimes() throws Exception {
        Processes.Result classpath = launcher("plugins");
        assertThat(classpath.exit()).as(classpath.out()).isZero();
        assertThat(classpath.out()).contains("Runtime: class path").containsPattern("backend\\s+djl\\s")
                .containsPattern("backend\\s+onnx\\s")
                .containsPattern("dictionary format\\s+reference-plt\\s").containsPattern("attributor\\s+exact\\s");

        Processes.Result osgi = launcher("--osgi", "plugins");
        assertThat(osgi.exit()).as(osgi.out()).isZero();
        assertThat(osgi.out()).contains("Runtime: OSGi").containsPattern("backend\\s+djl\\s+bundle")
                .containsPattern("backend\\s+onnx\\s+bundle")
                .containsPattern("dictionary format\\s+reference-plt\\s+bundle")
                .containsPattern("attributor\\s+exact\\s+bundle").doesNotContain("Problems");

        Processes.Result help = launcher("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("attribute").contains("intervene").contains("generate").contains("bench")
                .contains("serve").contains("export-onnx");
        Processes.Result bad = launcher("attribute", "--frobnicate");
        assertThat(bad.exit()).isEqualTo(2);
    }

    @Test
    void withoutTheSparkAddOnBatchSaysWhichArchiveToUnpack(@TempDir Path work) throws Exception {
        assertThat(home.resolve("spark")).doesNotExist(); // the base archive alone
        Path prompts = Files.writeString(work.resolve("prompts.jsonl"), "{\"prompt\": \"the cat\"}\n");
        Processes.Result batch = launcher("batch", "--prompts", prompts.toString(), "--out", work.resolve("out").toString());
        assertThat(batch.exit()).as(batch.out()).isEqualTo(2);
        assertThat(batch.out()).contains("[MISSING_CAPABILITY]").contains("Spark add-on")
                .contains("unpack circuit-tracer-spark-VERSION.tar.gz").contains("adds circuit-tracer/spark/");
        Processes.Result features = launcher("features", "--model", SharedFixtures.resolve("tiny-models/llama").toString(),
                "--transcoders", SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--corpus",
                prompts.toString(), "--output-dir", work.resolve("features").toString(), "--master", "local[1]");
        assertThat(features.exit()).as(features.out()).isEqualTo(2);
        assertThat(features.out()).contains("features --master runs on the Spark add-on")
                .contains("unpack circuit-tracer-spark-VERSION.tar.gz");
        assertThat(work.resolve("out")).doesNotExist();
    }

    @Test
    void exportOnnxUnderOsgi(@TempDir Path work) throws Exception {
        // the exporter runs from lib/; the check then runs the djl and onnx bundles on the source and the export
        Path output = work.resolve("llama-onnx");
        Processes.Result r = launcher("--osgi", "export-onnx", "--model", SharedFixtures.resolve("tiny-models/llama").toString(),
                "--output", output.toString(), "--quiet");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("Checked: djl and onnx");
        assertThat(output.resolve("model.onnx")).isNotEmptyFile();
    }

    @Test
    void attributeInBothRuntimes(@TempDir Path work) throws Exception {
        List<String> model = Processes.demoPresent(home) ? List.of() : List.of("--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--prompt-ids",
                "0,113,47,97,94,63");
        for (String runtime : List.of("classpath", "osgi")) {
            List<String> args = new ArrayList<>();
            if (runtime.equals("osgi")) {
                args.add("--osgi");
            }
            args.addAll(List.of("attribute", "--slug", runtime, "--graph-file-dir", work.toString(), "--quiet"));
            args.addAll(model);
            Processes.Result r = launcher(args.toArray(String[]::new));
            assertThat(r.exit()).as(runtime + ": " + r.out()).isZero();
            JsonNode graph = JSON.readTree(work.resolve(runtime + ".json").toFile());
            assertThat(graph.get("nodes").size()).as(runtime).isPositive();
            assertThat(graph.get("links").size()).as(runtime).isPositive();
        }
        JsonNode index = JSON.readTree(work.resolve("graph-metadata.json").toFile());
        assertThat(index.get("graphs")).hasSize(2);
    }

    @Test
    void serveInBothRuntimes(@TempDir Path work) throws Exception {
        List<String> model = Processes.demoPresent(home) ? List.of() : List.of("--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString());
        List<String> attribute = new ArrayList<>(List.of("attribute", "--slug", "served", "--graph-file-dir",
                work.toString(), "--quiet"));
        attribute.addAll(model);
        if (!model.isEmpty()) {
            attribute.addAll(List.of("--prompt-ids", "0,113,47,97,94,63"));
        }
        Processes.Result made = launcher(attribute.toArray(String[]::new));
        assertThat(made.exit()).as(made.out()).isZero();
        assertThat(made.out()).contains("To view it: circuit-tracer serve").contains("?slug=served");

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        for (String runtime : List.of("classpath", "osgi")) {
            List<String> command = new ArrayList<>(List.of(home.resolve("bin/circuit-tracer").toString()));
            if (runtime.equals("osgi")) {
                command.add("--osgi");
            }
            command.addAll(List.of("serve", "--graph-file-dir", work.toString(), "--port", "0"));
            command.addAll(model);
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            StringBuffer output = new StringBuffer();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        output.append(line).append('\n');
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            reader.start();
            try {
                String base = awaitAddress(p, output, runtime);
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(page.statusCode()).as(runtime).isEqualTo(200);
                assertThat(page.body()).as(runtime).contains("<html");
                HttpResponse<String> graph = http.send(HttpRequest.newBuilder(URI.create(base
                        + "graph_data/served.json")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(graph.statusCode()).as(runtime).isEqualTo(200);
                assertThat(JSON.readTree(graph.body()).get("nodes").size()).as(runtime).isPositive();
                HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(base + "api/status"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(JSON.readTree(status.body()).get("model").isNull()).as(runtime + ": " + status.body())
                        .isFalse();
            } finally {
                p.destroy(); // SIGTERM, as Ctrl-C: the shutdown hook closes the server
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
                reader.join(10_000);
            }
            assertThat(output.toString()).as(runtime).doesNotContain("Exception");
        }
    }

    private static String awaitAddress(Process p, StringBuffer output, String runtime) throws InterruptedException {
        Pattern running = Pattern.compile("Viewer running at (http://127\\.0\\.0\\.1:\\d+/)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            Matcher m = running.matcher(output);
            if (m.find()) {
                return m.group(1);
            }
            if (!p.isAlive()) {
                throw new AssertionError(runtime + ": serve ended with " + p.exitValue() + ":\n" + output);
            }
            Thread.sleep(100);
        }
        throw new AssertionError(runtime + ": serve printed no address in time:\n" + output);
    }
}
