package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --frontend DIR} (another frontend's files at {@code /}, every data route kept), feature files found
 * with the transcoders when {@code --features-dir} is not given, and graphs of local transcoders naming their
 * directory as scan: what the reference (Python circuit-tracer) frontend needs to show our graphs with feature
 * examples. On the tiny llama fixture, in-process.
 */
class ServeFrontendCommandTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dir;

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The tiny llama's per-layer transcoders saved locally: a copy whose config names no scan. */
    private Path localTranscoders() throws IOException {
        Path from = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        Path to = Files.createDirectories(dir.resolve("transcoders/llama-plt"));
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (f.getFileName().toString().equals("config.yaml")) {
                    Files.write(to.resolve("config.yaml"), Files.readAllLines(f).stream()
                            .filter(l -> !l.startsWith("scan:")).toList());
                } else if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
        return to;
    }

    private static List<String> args(String... args) {
        return new ArrayList<>(List.of(args));
    }

    @Test
    void anotherFrontendIsServedAtTheRootWithTheDataRoutes() throws Exception {
        Path frontend = Files.createDirectories(dir.resolve("assets"));
        Files.writeString(frontend.resolve("index.html"), "<!DOCTYPE html><title>reference page</title>");
        Files.writeString(frontend.resolve("util.js"), "window.util = {}");
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        Files.writeString(graphs.resolve("graph-metadata.json"), "{\"graphs\": []}");
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(List.of("serve", "--graph-file-dir",
                graphs.toString(), "--no-model", "--port", "0", "--frontend", frontend.toString()))) {
            String base = serve.awaitAddress("Viewer running at ");
            HttpResponse<String> page = get(base);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("reference page");
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/html"));
            assertThat(get(base + "util.js").headers().firstValue("Content-Type")).hasValueSatisfying(t ->
                    assertThat(t).startsWith("text/javascript"));
            assertThat(get(base + "ui/main.js").statusCode()).as("our UI is not served").isEqualTo(404);
            assertThat(MAPPER.readTree(get(base + "data/graph-metadata.json").body()).get("graphs").isArray())
                    .isTrue();
            assertThat(get(base + "api/status").statusCode()).isEqualTo(200);
            assertThat(serve.err()).contains("Frontend: " + frontend.toAbsolutePath().normalize());
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }

    @Test
    void aFrontendWithoutAnIndexOrAbsentExitsWithTwoBeforeLoadingAModel() throws IOException {
        Path graphs = Files.createDirectories(dir.resolve("graphs"));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CircuitTracerCommandTest.Run noIndex = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                graphs.toString(), "--port", "0", "--frontend", empty.toString());
        assertThat(noIndex.exit()).isEqualTo(2);
        assertThat(noIndex.err()).startsWith("error: [FILE_NOT_FOUND] --frontend").contains("index.html")
                .contains("circuit_tracer/frontend/assets").doesNotContain("Loading model");
        CircuitTracerCommandTest.Run absent = CircuitTracerCommandTest.run("serve", "--graph-file-dir",
                graphs.toString(), "--no-model", "--port", "0", "--frontend", dir.resolve("absent").toString());
        assertThat(absent.exit()).isEqualTo(2);
        assertThat(absent.err()).startsWith("error: [FILE_NOT_FOUND] --frontend");
    }

    @Test
    void featureFilesKeptWithTheTranscodersAreServedAndGraphsNameTheTranscoderDirectory() throws Exception {
        Path transcoders = localTranscoders();
        Path model = SharedFixtures.resolve("tiny-models/llama");
        Path graphs = dir.resolve("graphs");
        // a graph of the local transcoders: its scan is their directory, so the reference page asks this server
        CircuitTracerCommandTest.Run made = CircuitTracerCommandTest.run("attribute", "--prompt",
                "the cat was on the", "--slug", "p0", "--graph-file-dir", graphs.toString(), "--quiet", "--model",
                model.toString(), "--transcoders", dir.resolve("transcoders/./llama-plt").toString());
        assertThat(made.exit()).as(made.err()).isZero();
        JsonNode graph = MAPPER.readTree(graphs.resolve("p0.json").toFile());
        assertThat(graph.get("metadata").get("scan").asText()).isEqualTo(transcoders.toAbsolutePath().normalize()
                .toString()).startsWith("/");

        // circuit-tracer features --output-dir transcoders/llama-plt/features writes this layout
        Path features = Files.createDirectories(transcoders.resolve("features"));
        Files.write(features.resolve("index.json.gz"), new byte[] {0x1f, (byte) 0x8b});
        String line = "Features: " + features.toAbsolutePath().normalize() + " (found with the transcoders";
        List<String> serveArgs = args("serve", "--graph-file-dir", graphs.toString(), "--port", "0", "--model",
                model.toString(), "--transcoders", transcoders.toString());
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(serveArgs)) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(get(base + "features/index.json.gz").statusCode()).isEqualTo(200);
            assertThat(serve.err().lines().filter(l -> l.startsWith("Features: ")).toList()).containsExactly(
                    line + "; --features-dir DIR overrides)");
            assertThat(serve.stop()).as(serve.err()).isZero();
        }

        // --features-dir wins
        Path other = Files.createDirectories(dir.resolve("other-features"));
        serveArgs.addAll(List.of("--features-dir", other.toString()));
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(serveArgs)) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(get(base + "features/index.json.gz").statusCode()).isEqualTo(404);
            assertThat(serve.err()).contains("Features: " + other.toAbsolutePath().normalize())
                    .doesNotContain("found with the transcoders");
            assertThat(serve.stop()).as(serve.err()).isZero();
        }

        // attribute --server finds them too, and says so once; --frontend serves another page there as well
        Path frontend = Files.createDirectories(dir.resolve("assets"));
        Files.writeString(frontend.resolve("index.html"), "<!DOCTYPE html><title>reference page</title>");
        try (ServeCommandTest.Background attribute = new ServeCommandTest.Background(args("attribute", "--prompt",
                "the cat was on the", "--slug", "p1", "--graph-file-dir", graphs.toString(), "--server", "--port",
                "0", "--model", model.toString(), "--transcoders", transcoders.toString(), "--frontend",
                frontend.toString()))) {
            String open = attribute.awaitAddress("Open ");
            String base = open.substring(0, open.indexOf('?'));
            assertThat(get(base + "features/index.json.gz").statusCode()).isEqualTo(200);
            assertThat(get(base).body()).contains("reference page");
            assertThat(MAPPER.readTree(get(base + "data/p1.json").body()).get("metadata").get("scan").asText())
                    .startsWith("/");
            assertThat(attribute.err().lines().filter(l -> l.startsWith("Features: ")).toList()).hasSize(1)
                    .allSatisfy(l -> assertThat(l).startsWith(line));
            assertThat(attribute.stop()).as(attribute.err()).isZero();
        }

        // feature files in the transcoder directory itself
        Files.move(features.resolve("index.json.gz"), transcoders.resolve("index.json.gz"));
        Files.delete(features);
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(args("serve", "--graph-file-dir",
                graphs.toString(), "--port", "0", "--model", model.toString(), "--transcoders",
                transcoders.toString()))) {
            String base = serve.awaitAddress("Viewer running at ");
            assertThat(get(base + "features/index.json.gz").statusCode()).isEqualTo(200);
            assertThat(serve.err()).contains("Features: " + transcoders.toAbsolutePath().normalize()
                    + " (found with the transcoders");
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }

    @Test
    void helpDescribesTheFrontendOption() {
        CircuitTracerCommandTest.Run help = CircuitTracerCommandTest.run("serve", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--frontend=DIR").contains("circuit_tracer/frontend/assets")
                .contains("/features/").contains("features/ subdirectory");
    }
}
