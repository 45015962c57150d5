package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.ReplacementWorkbench;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our graph directories in the reference (Python circuit-tracer) frontend, without a browser: a graph made from a
 * local dictionary directory names that directory's absolute path as its scan, so the reference frontend asks the
 * serving server for feature files, and the server answers exactly those requests ({@link ReferenceFrontendRequests});
 * and {@code --frontend DIR} serves another frontend's static files at {@code /}, confined to DIR, keeping every data
 * route. (ReferenceFrontendBrowserTest runs the real reference frontend in Chromium.)
 */
class ReferenceFrontendServingTest {

    /** The demo's dashboards, written by DashboardWriter (the module's working directory is viewers/web). */
    static final Path DEMO = Path.of("../../distribution/demo/artifacts");

    @TempDir
    Path tmp;

    @Test
    void aGraphOfALocalDictionaryDirectoryGetsItsFeaturesFromTheServingServer() throws IOException {
        SharedFixtures.require();
        // the tiny llama's transcoders saved locally: their config names no scan
        Path transcoders = tmp.resolve("transcoders/llama-plt");
        copyWithoutScan(TinyFixtures.dictionaryDirectory("llama-plt-relu"), transcoders);
        Path graphs = tmp.resolve("graphs");
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = new ReferencePerLayerProvider().create(DictionarySource.of(
                     tmp.resolve("transcoders/./llama-plt/../llama-plt")))) {
            new ReplacementWorkbench(model, dictionary, new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME))).createGraph(
                    new NewGraphRequest(null, TinyModel.promptIds(), "local", 10, 0.95, 0, 256, 0.8, 0.98), graphs,
                    AttributionListener.NONE);
        }
        JsonNode graph = TestGraphs.JSON.readTree(graphs.resolve("local.json").toFile());
        String scan = graph.get("metadata").get("scan").asText();
        assertThat(scan).isEqualTo(transcoders.toAbsolutePath().normalize().toString()).startsWith("/");
        assertThat(ReferenceFrontendRequests.isLocal(scan)).isTrue();
        assertThat(TestGraphs.JSON.readTree(graphs.resolve("graph-metadata.json").toFile()).get("graphs").get(0)
                .get("scan").asText()).isEqualTo(scan);

        Path features = transcoders.resolve("features");
        TestGraphs.writePackedFeatures(features, graph);
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(features).withPort(0))) {
            Client client = new Client(server.url());
            // what the page loads first
            assertThat(Client.body(client.get("/data/graph-metadata.json")).get("graphs").get(0).get("slug").asText())
                    .isEqualTo("local");
            assertThat(Client.body(client.get("/graph_data/local.json")).get("metadata").get("scan").asText())
                    .isEqualTo(scan);
            ReferenceFrontendRequests reference = new ReferenceFrontendRequests(client);
            HttpResponse<byte[]> head = reference.headIndex();
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValueAsLong("Content-Length").orElse(-1))
                    .isEqualTo(Files.size(features.resolve("index.json.gz")));
            assertThat(head.body()).isEmpty();

            Set<Long> ids = new LinkedHashSet<>();
            for (JsonNode n : graph.get("nodes")) {
                if (n.get("feature_type").asText().equals("cross layer transcoder")) {
                    ids.add(n.get("feature").asLong());
                }
            }
            assertThat(ids).isNotEmpty();
            for (long z : ids) {
                JsonNode feature = reference.feature(z);
                ReferenceFrontendRequests.assertReadableByTheFrontend(feature);
                assertThat(feature.get("index").asLong()).isEqualTo(z);
            }
        }
    }

    @Test
    void theDemosDashboardsAreReadAsTheReferenceFrontendReadsThem() throws IOException {
        Path features = DEMO.resolve("features-plt");
        if (!Files.isRegularFile(features.resolve("index.json.gz"))) {
            SharedFixtures.missing("no demo dashboards at " + features + " (they are committed with the demo)");
        }
        JsonNode manifest = TestGraphs.JSON.readTree(features.resolve("dashboards.json").toFile());
        Files.createDirectories(tmp.resolve("graphs"));
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(tmp.resolve("graphs")).withFeaturesDir(features)
                .withPort(0))) {
            ReferenceFrontendRequests reference = new ReferenceFrontendRequests(new Client(server.url()));
            JsonNode layers = manifest.get("layers");
            List<long[]> chosen = new ArrayList<>();
            for (int layer = 0; layer < layers.size(); layer++) {
                Set<Long> inactive = new LinkedHashSet<>();
                layers.get(layer).get("inactive").forEach(i -> inactive.add(i.asLong()));
                long last = layers.get(layer).get("features").asLong() - 1;
                // the first active feature, and the last one: its range ends one byte past the file
                chosen.add(new long[] {layer, Stream.iterate(0L, i -> i + 1).filter(i -> !inactive.contains(i))
                        .findFirst().orElseThrow()});
                if (!inactive.contains(last)) {
                    chosen.add(new long[] {layer, last});
                }
            }
            for (long[] li : chosen) {
                long z = FeatureIds.pair((int) li[0], li[1]);
                JsonNode feature = reference.feature(z);
                ReferenceFrontendRequests.assertReadableByTheFrontend(feature);
                assertThat(feature.get("index").asLong()).isEqualTo(z);
            }
        }
    }

    @Test
    void anotherFrontendIsServedAtTheRootConfinedToItsDirectoryWithEveryDataRouteKept() throws IOException {
        Path frontend = tmp.resolve("frontend");
        Files.createDirectories(frontend.resolve("attribution_graph"));
        Files.createDirectories(frontend.resolve("addition"));
        Files.writeString(frontend.resolve("index.html"), "<!DOCTYPE html><title>other frontend</title>");
        Files.writeString(frontend.resolve("util.js"), "window.util = {}");
        Files.writeString(frontend.resolve("style.css"), "body {}");
        Files.writeString(frontend.resolve("attribution_graph/init-cg.js"), "window.initCg = 1");
        Files.writeString(frontend.resolve("addition/index.html"), "<p>addition</p>");
        Files.writeString(frontend.resolve("data.bin"), "raw");
        Files.writeString(tmp.resolve("secret.txt"), "do not serve");
        Files.createSymbolicLink(frontend.resolve("escape.txt"), tmp.resolve("secret.txt"));
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.smallGraph(TestGraphs.SMALL));
        Path features = tmp.resolve("features");
        TestGraphs.writePackedFeatures(features, TestGraphs.smallGraph(TestGraphs.SMALL));

        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(features)
                .withFrontendDir(frontend).withPort(0))) {
            Client client = new Client(server.url());
            assertFile(client.get("/"), "text/html; charset=utf-8", "other frontend");
            assertFile(client.get("/index.html?slug=small-demo"), "text/html; charset=utf-8", "other frontend");
            assertFile(client.get("/util.js"), "text/javascript; charset=utf-8", "window.util");
            assertFile(client.get("/style.css"), "text/css; charset=utf-8", "body");
            assertFile(client.get("/attribution_graph/init-cg.js"), "text/javascript; charset=utf-8", "initCg");
            assertFile(client.get("/addition/"), "text/html; charset=utf-8", "addition");
            assertFile(client.get("/data.bin"), "application/octet-stream", "raw");
            HttpResponse<byte[]> head = client.send("HEAD", "/util.js", null);
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(16L);
            assertThat(head.body()).isEmpty();
            // a directory named without its slash: redirected, so that the page's relative URLs resolve inside it
            Client.RawResponse redirect = client.raw("GET", "/addition?x=1", null, null);
            assertThat(redirect.status()).isEqualTo(302);
            assertThat(redirect.whole()).containsIgnoringCase("Location: /addition/?x=1");
            // our UI is not served; the frontend has no favicon, so ours stands in
            assertThat(client.get("/ui/main.js").statusCode()).isEqualTo(404);
            assertFile(client.get("/favicon.ico"), "image/svg+xml", "<svg");

            // confined to the directory: no parent segments (raw or encoded), no links out of it, no listings
            for (String target : List.of("/../secret.txt", "/%2e%2e/secret.txt", "/attribution_graph/%2e%2e/%2e%2e/"
                    + "secret.txt", "/..%2fsecret.txt", "/escape.txt", "/%2fetc/passwd", "//etc/passwd")) {
                Client.RawResponse r = client.raw("GET", target, null, null);
                assertThat(r.status()).as(target).isIn(400, 403, 404);
                assertThat(r.body()).as(target).doesNotContain("do not serve").doesNotContain("root:");
            }
            assertThat(client.get("/nope.js").statusCode()).isEqualTo(404);
            assertThat(Client.body(client.get("/nope.js")).get("error").asText()).isEqualTo("NOT_FOUND");

            // the data routes are unchanged
            assertThat(Client.body(client.get("/data/graph-metadata.json")).get("graphs").get(0).get("slug").asText())
                    .isEqualTo(TestGraphs.SMALL);
            assertThat(Client.body(client.get("/graph_data/small-demo.json")).get("nodes")).isNotEmpty();
            assertThat(client.get("/features/index.json.gz").statusCode()).isEqualTo(200);
            assertThat(client.get("/features/layer_0.bin", "Range", "bytes=0-3").statusCode()).isEqualTo(206);
            assertThat(Client.body(client.get("/api/status"))).isNotNull();
            assertThat(Client.body(client.get("/api/graphs")).get("graphs")).hasSize(1);
            HttpResponse<byte[]> save = client.post("/save_graph/small-demo", Map.of("qParams", Map.of(
                    "pinnedIds", "0_12_2")));
            assertThat(save.statusCode()).isEqualTo(200);
            assertThat(Client.body(client.get("/graph_data/small-demo.json")).get("qParams").get("pinnedIds").asText())
                    .isEqualTo("0_12_2");
        }
    }

    @Test
    void viewerMainTakesAFrontend() {
        ViewerConfig config = ViewerMain.parse(new String[] {"--graph-file-dir", "g", "--frontend", "assets"});
        assertThat(config.frontendDir()).isEqualTo(Path.of("assets"));
        assertThat(ViewerMain.parse(new String[] {"--graph-file-dir", "g"}).frontendDir()).isNull();
        assertThat(ViewerConfig.of(Path.of("g")).withFrontendDir(Path.of("a")).withPort(0).withHost("::1")
                .frontendDir()).as("kept by the other with... methods").isEqualTo(Path.of("a"));
    }

    @Test
    void aFrontendDirectoryWithoutAnIndexIsRefusedAtStart() throws IOException {
        Path graphs = tmp.resolve("graphs");
        Files.createDirectories(graphs);
        Files.createDirectories(tmp.resolve("frontend"));
        assertThatThrownBy(() -> ViewerServer.start(ViewerConfig.of(graphs).withFrontendDir(tmp.resolve("frontend"))
                .withPort(0))).isInstanceOfSatisfying(CircuitTracerException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND);
                    assertThat(e.getMessage()).contains("no index.html", "frontend/assets");
                });
        assertThatThrownBy(() -> ViewerServer.start(ViewerConfig.of(graphs).withFrontendDir(tmp.resolve("absent"))
                .withPort(0))).isInstanceOf(CircuitTracerException.class).hasMessageContaining("frontend directory");
    }

    @Test
    void ourPageNamesAnIconAndTheBrowsersDefaultIconRequestIsAnswered() throws IOException {
        Files.createDirectories(tmp.resolve("graphs"));
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(tmp.resolve("graphs")).withPort(0))) {
            Client client = new Client(server.url());
            assertThat(Client.text(client.get("/"))).contains("<link rel=\"icon\" href=\"/ui/favicon.svg\"");
            assertFile(client.get("/ui/favicon.svg"), "image/svg+xml", "<svg");
            assertFile(client.get("/favicon.ico"), "image/svg+xml", "<svg");
        }
    }

    private static void assertFile(HttpResponse<byte[]> r, String type, String content) {
        assertThat(r.statusCode()).as(r.uri().toString()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").map(t -> t.replace(" ", ""))).as(r.uri().toString())
                .hasValue(type.replace(" ", ""));
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains(content);
    }

    /** Copies a reference-format transcoder directory, leaving {@code scan:} out of its config. */
    static void copyWithoutScan(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (f.getFileName().toString().equals("config.yaml")) {
                    List<String> lines = Files.readAllLines(f).stream().filter(l -> !l.startsWith("scan:")).toList();
                    Files.write(to.resolve("config.yaml"), lines);
                } else if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
        assertThat(Files.readString(to.resolve("config.yaml"))).doesNotContain("scan");
    }
}
