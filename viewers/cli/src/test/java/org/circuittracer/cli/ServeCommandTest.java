package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/**
 * {@code serve} and {@code attribute --server} in-process on the tiny llama fixture: the command runs in a thread
 * until the test interrupts it, and the test reads the viewer over HTTP on 127.0.0.1. No network beyond loopback.
 */
class ServeCommandTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private static final Pattern ADDRESS = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/\\S*)");
    private static Path model;
    private static Path transcoders;

    @BeforeAll
    static void fixtures() {
        model = SharedFixtures.resolve("tiny-models/llama");
        transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
    }

    private static List<String> withModel(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--model", model.toString(), "--transcoders", transcoders.toString()));
        return all;
    }

    /** A graph made by {@code attribute} on the fixture, as slug {@code p0} in {@code dir}. */
    private static CircuitTracerCommandTest.Run attribute(Path dir, String... more) {
        List<String> args = withModel("attribute", "--prompt", "the cat was on the", "--slug", "p0",
                "--graph-file-dir", dir.toString(), "--quiet");
        args.addAll(List.of(more));
        return CircuitTracerCommandTest.run(args.toArray(String[]::new));
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = get(url);
        assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
        return MAPPER.readTree(r.body());
    }

    /** The command in a thread of its own, as a user runs it in a terminal; {@link #stop()} is the Ctrl-C. */
    static final class Background implements AutoCloseable {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final Thread thread;
        private volatile int exit = -1;

        Background(List<String> args) {
            thread = new Thread(() -> {
                CommandLine cli = CircuitTracerCommand.commandLine();
                cli.setOut(new PrintWriter(out, true));
                cli.setErr(new PrintWriter(err, true));
                exit = cli.execute(args.toArray(String[]::new));
            }, "command " + args.get(0));
            thread.start();
        }

        /** The first address on a line of stdout starting with {@code prefix}, once the command printed it. */
        String awaitAddress(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (System.nanoTime() < deadline) {
                Optional<String> line = out.toString().lines().filter(l -> l.startsWith(prefix)).findFirst();
                if (line.isPresent()) {
                    Matcher m = ADDRESS.matcher(line.get());
                    assertThat(m.find()).as(line.get()).isTrue();
                    return m.group(1);
                }
                if (!thread.isAlive()) {
                    throw new AssertionError("the command ended with " + exit + " before printing '" + prefix
                            + "'\nout: " + out + "\nerr: " + err);
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no '" + prefix + "' line in time\nout: " + out + "\nerr: " + err);
        }

        /** Interrupts the command, as Ctrl-C ends it; its exit code. */
        int stop() throws InterruptedException {
            thread.interrupt();
            thread.join(Duration.ofSeconds(60).toMillis());
            assertThat(thread.isAlive()).as("the command stops when interrupted").isFalse();
            return exit;
        }

        String out() {
            return out.toString();
        }

        String err() {
            return err.toString();
        }

        @Override
        public void close() throws InterruptedException {
            if (thread.isAlive()) {
                stop();
            }
        }
    }

    @Test
    void serveShowsTheGraphsAttributeWroteAndTheFeatureFiles(@TempDir Path dir) throws Exception {
        Path graphs = dir.resolve("graphs");
        CircuitTracerCommandTest.Run made = attribute(graphs);
        assertThat(made.exit()).as(made.err()).isZero();
        assertThat(made.out()).contains("To view it: circuit-tracer serve --graph-file-dir " + graphs)
                .contains("--model " + model).contains("--transcoders " + transcoders)
                .contains("then open http://127.0.0.1:8041/?slug=p0");
        Path features = Files.createDirectories(dir.resolve("features"));
        Files.writeString(features.resolve("7.json"), "{\"index\": 7, \"examples_quantiles\": []}");

        try (Background serve = new Background(List.of("serve", "--graph-file-dir", graphs.toString(),
                "--features-dir", features.toString(), "--no-model", "--port", "0"))) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(base).matches("http://127\\.0\\.0\\.1:\\d+/");
            assertThat(base).doesNotEndWith(":0/");

            HttpResponse<String> page = get(base);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/html"));
            assertThat(get(base + "?slug=p0").statusCode()).isEqualTo(200);

            JsonNode graph = json(base + "graph_data/p0.json");
            assertThat(graph.get("metadata").get("slug").asText()).isEqualTo("p0");
            assertThat(graph.get("nodes").size()).isPositive();
            assertThat(json(base + "data/graph-metadata.json").get("graphs").get(0).get("slug").asText())
                    .isEqualTo("p0");
            assertThat(json(base + "api/graphs/p0/view").get("nodes").size()).isPositive();
            assertThat(json(base + "features/7.json").get("index").asInt()).isEqualTo(7);

            JsonNode status = json(base + "api/status");
            assertThat(status.get("model").isNull()).as(status.toString()).isTrue();
            assertThat(status.get("features").isNull()).as(status.toString()).isFalse();
            assertThat(serve.err()).contains("Graphs: ").contains("No model");

            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }

    /**
     * A killed {@code features} write is cleaned up when serve starts, but only once nothing changed there for
     * {@code DashboardWriter.STALE_AFTER}: fresh leftovers may be a running write's, and stay.
     */
    @Test
    void serveCleansUpOnlyStaleLeftoversOfAKilledFeaturesWrite(@TempDir Path dir) throws Exception {
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        Path features = Files.createDirectories(dir.resolve("features"));
        Files.writeString(features.resolve("dashboards.json"), "{\"generation\": 3}");
        Files.writeString(features.resolve("7.json"), "{\"index\": 7, \"examples_quantiles\": []}");
        Path staging = Files.createDirectories(features.resolve(".dashboards-staging-4")); // a write never committed
        Files.writeString(staging.resolve("8.json"), "{\"index\": 8}");
        Path temporary = Files.writeString(features.resolve(".7.json.0123abcd.tmp"), "{\"ind");

        String fresh = serveOnce(graphs, features);
        assertThat(fresh).contains("left as they are");
        assertThat(staging.resolve("8.json")).exists();
        assertThat(temporary).exists();

        java.nio.file.attribute.FileTime hourAgo = java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(Duration.ofHours(1)));
        for (Path p : List.of(staging.resolve("8.json"), staging, temporary, features)) {
            Files.setLastModifiedTime(p, hourAgo);
        }
        String stale = serveOnce(graphs, features);
        assertThat(stale).contains("finished or discarded an interrupted write");
        assertThat(staging).doesNotExist();
        assertThat(temporary).doesNotExist();
        assertThat(features.resolve("7.json")).exists();
    }

    /** Starts serve on {@code graphs} and {@code features}, reads the status, stops it; its standard error. */
    private static String serveOnce(Path graphs, Path features) throws Exception {
        try (Background serve = new Background(List.of("serve", "--graph-file-dir", graphs.toString(),
                "--features-dir", features.toString(), "--no-model", "--port", "0"))) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(json(base + "features/7.json").get("index").asInt()).isEqualTo(7);
            assertThat(serve.stop()).as(serve.err()).isZero();
            return serve.err();
        }
    }

    @Test
    void serveWithAModelOffersNewGraphsAndSteering(@TempDir Path dir) throws Exception {
        Path graphs = Files.createDirectories(dir.resolve("empty"));
        try (Background serve = new Background(withModel("serve", "--graph-file-dir", graphs.toString(), "--port",
                "0"))) {
            String base = serve.awaitAddress("Viewer running at ");
            JsonNode status = json(base + "api/status");
            assertThat(status.get("model").isNull()).as(status.toString()).isFalse();
            assertThat(status.get("model").get("layers").asInt()).isPositive();
            assertThat(status.get("features").isNull()).isTrue();
            assertThat(json(base + "api/graphs").get("graphs").isArray()).isTrue();
            assertThat(serve.err()).contains("Loading model").contains("steering are on");
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }

    @Test
    void attributeWithServerPrintsTheGraphsAddressAndServesItUntilInterrupted(@TempDir Path dir) throws Exception {
        Path graphs = dir.resolve("graphs");
        List<String> args = withModel("attribute", "--prompt", "the cat was on the", "--slug", "p0",
                "--graph-file-dir", graphs.toString(), "--quiet", "--server", "--port", "0");
        try (Background attribute = new Background(args)) {
            String open = attribute.awaitAddress("Open ");
            assertThat(open).matches("http://127\\.0\\.0\\.1:\\d+/\\?slug=p0");
            assertThat(attribute.out()).contains("Wrote").doesNotContain("To view it");
            assertThat(get(open).statusCode()).isEqualTo(200);
            String base = open.substring(0, open.indexOf('?'));
            assertThat(json(base + "graph_data/p0.json").get("nodes").size()).isPositive();
            assertThat(json(base + "api/status").get("model").isNull()).isFalse();
            assertThat(attribute.stop()).as(attribute.err()).isZero();
        }
        assertThat(graphs.resolve("p0.json")).exists();
    }

    @Test
    void badPortsMissingDirectoriesAndBusyPortsExitWithTwo(@TempDir Path dir) throws IOException {
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        for (String port : List.of("70000", "-1")) {
            CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                    graphs.toString(), "--no-model", "--port", port);
            assertThat(r.exit()).as(port).isEqualTo(2);
            assertThat(r.err()).as(port).contains("--port").contains("Usage:");
        }
        CircuitTracerCommandTest.Run notANumber = CircuitTracerCommandTest.run("serve", "--port", "http");
        assertThat(notANumber.exit()).isEqualTo(2);

        CircuitTracerCommandTest.Run missing = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                dir.resolve("absent").toString(), "--no-model", "--port", "0");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: [FILE_NOT_FOUND] --graph-file-dir").contains("attribute")
                .doesNotContain("\tat ");

        CircuitTracerCommandTest.Run missingFeatures = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                graphs.toString(), "--features-dir", dir.resolve("absent").toString(), "--no-model", "--port", "0");
        assertThat(missingFeatures.exit()).isEqualTo(2);
        assertThat(missingFeatures.err()).startsWith("error: [FILE_NOT_FOUND] --features-dir");

        CircuitTracerCommandTest.Run both = CircuitTracerCommandTest.run(withModel("serve", "--graph-file-dir",
                graphs.toString(), "--no-model").toArray(String[]::new));
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("--no-model");

        CircuitTracerCommandTest.Run unknownHost = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                graphs.toString(), "--no-model", "--port", "0", "--host", "no-such-host.invalid");
        assertThat(unknownHost.exit()).isEqualTo(2);
        assertThat(unknownHost.err()).contains("--host");

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            String port = Integer.toString(taken.getLocalPort());
            CircuitTracerCommandTest.Run busy = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                    graphs.toString(), "--no-model", "--port", port);
            assertThat(busy.exit()).isEqualTo(2);
            assertThat(busy.err()).startsWith("error: [PORT_IN_USE] Port " + port).contains("--port 0")
                    .doesNotContain("\tat ");

            CircuitTracerCommandTest.Run busyModel = CircuitTracerCommandTest.run(withModel("serve",
                    "--graph-file-dir", graphs.toString(), "--port", port).toArray(String[]::new));
            assertThat(busyModel.exit()).isEqualTo(2);
            assertThat(busyModel.err()).contains("PORT_IN_USE").doesNotContain("Loading model");

            CircuitTracerCommandTest.Run busyAttribute = attribute(graphs, "--server", "--port", port);
            assertThat(busyAttribute.exit()).isEqualTo(2);
            assertThat(busyAttribute.err()).contains("PORT_IN_USE");
            assertThat(graphs.resolve("p0.json")).as("fails before computing the graph").doesNotExist();
        }
        CircuitTracerCommandTest.Run badAttributePort = attribute(graphs, "--server", "--port", "65536");
        assertThat(badAttributePort.exit()).isEqualTo(2);
        assertThat(badAttributePort.err()).contains("--port").doesNotContain("Loading model");
    }

    @Test
    void aPortTakenAfterTheCheckIsStillReportedAsInUse(@TempDir Path dir) {
        org.circuittracer.viewer.ViewerConfig config = org.circuittracer.viewer.ViewerConfig.of(dir).withPort(0);
        try (org.circuittracer.viewer.ViewerServer first = Viewing.start(config)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Viewing.start(config.withPort(first.port())))
                    .isInstanceOfSatisfying(org.circuittracer.spi.CircuitTracerException.class, e -> {
                        assertThat(e.errorCode().code()).isEqualTo("PORT_IN_USE");
                        assertThat(CircuitTracerCommand.exitCode(e.category())).isEqualTo(2);
                        assertThat(e.getMessage()).contains("--port");
                    });
        }
    }

    @Test
    void helpListsServeWithExamples() {
        CircuitTracerCommandTest.Run help = CircuitTracerCommandTest.run("serve", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--graph-file-dir").contains("--features-dir").contains("--no-model")
                .contains("--model").contains("--transcoders").contains("default: 8041").contains("127.0.0.1")
                .contains("Examples:");
        assertThat(CircuitTracerCommandTest.run("--help").out()).contains("serve");
        assertThat(CircuitTracerCommandTest.run("attribute", "--help").out()).contains("--server").contains("--port");
    }
}
