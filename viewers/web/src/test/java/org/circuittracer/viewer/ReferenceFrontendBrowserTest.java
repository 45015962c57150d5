package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.circuittracer.viewer.work.NewGraphRequest;
import org.circuittracer.viewer.work.ReplacementWorkbench;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The real reference (Python circuit-tracer) frontend in Chromium, served by our server with
 * {@link ViewerConfig#withFrontendDir}, on a demo-model graph whose transcoders are local (its scan is their
 * directory's absolute path) and the demo's packed dashboards: every node is drawn, including an error node renamed
 * for a collision with a layer-0 feature ({@code 0_{L}_{p}_error} beside the feature {@code 0_{L}_{p}}); a clicked
 * feature's pane shows its examples and token predictions, read from our {@code /features/}; the page logs no error.
 *
 * <p>The reference frontend is not ours and is not in this repository: the test reads it from the directory that
 * {@value #VARIABLE} (or {@code -D}{@value #PROPERTY}) names, e.g. a checkout's
 * {@code circuit_tracer/frontend/assets}, and is skipped without it. Its page loads d3, d3-jetpack, dagre and pako from
 * the internet, which the test browser cannot reach; a copy of the page loads them from this module's npm
 * devDependencies instead (d3-jetpack through a small loader, see {@link #jetpackForD3v7()}; empty stand-ins for the
 * hot-reload client and npy reader, which a graph page does not use).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@EnabledIf(value = "configured", disabledReason = "Skipped: set " + ReferenceFrontendBrowserTest.VARIABLE + " (or -D"
        + ReferenceFrontendBrowserTest.PROPERTY + ") to the reference frontend's directory, e.g. a checkout of the "
        + "Python circuit-tracer's circuit_tracer/frontend/assets, to run it in Chromium; its files are not part of "
        + "this repository.")
class ReferenceFrontendBrowserTest {

    static final String VARIABLE = "CIRCUIT_TRACER_REFERENCE_FRONTEND";
    static final String PROPERTY = "circuittracer.referenceFrontend";
    static final String PROMPT = "Fact: the capital of the state containing Dallas is";

    /** The page's external scripts, by file name: where this module's node_modules has each ("": a stand-in). */
    private static final Map<String, String> SCRIPTS = Map.of(
            "hotserver-client-ws.js", "",
            "d3.js", "node_modules/d3/dist/d3.min.js",
            "jetpack_2024-07-20.js", "node_modules/d3-jetpack/build/d3-jetpack.cjs",
            "npy_v0.js", "",
            "dagre.min.js", "node_modules/dagre/dist/dagre.min.js",
            "pako.min.js", "node_modules/pako/dist/pako.min.js");

    /**
     * What stands in for the page's jetpack build: npm's d3-jetpack 2.3.0 (the release for d3 v7) extending the page's
     * d3 v7, with d3-collection 1 (which its {@code nestBy} needs and d3 v7 no longer has) as a private dependency.
     * Both UMD builds are loaded through a minimal AMD {@code define} written for this test: d3-jetpack's
     * browser-global branch would first replace {@code window.d3} by an empty object and then read its dependencies
     * from it, and d3-collection's would overwrite d3 v7's {@code d3.map}. The page's own build also gives each
     * {@code d3.conventions} chart a {@code c.drawAxis(svg)}, which the npm release has as {@code d3.drawAxis(c)}: a
     * small wrapper adds it. (The package's {@code d3v7+jetpack.js} bundle does not do: it patches a second,
     * bundled copy of d3-selection, so {@code d3.select(...).appendMany} is missing.)
     */
    static String jetpackForD3v7() throws IOException {
        return "// test stand-in (ReferenceFrontendBrowserTest): d3-collection 1, d3-jetpack 2.3.0 on the page's d3\n"
                + "window.define = function (deps, factory) {\n"
                + "  window.__d3Collection = {}; factory(window.__d3Collection);\n"
                + "};\n"
                + "window.define.amd = true;\n"
                + Files.readString(Path.of("node_modules/d3-collection/dist/d3-collection.js")) + "\n"
                + "window.define = function (deps, factory) {\n"
                + "  var exports = {};\n"
                + "  factory.apply(null, deps.map(function (d) {\n"
                + "    return d === 'exports' ? exports : d === 'd3-collection' ? window.__d3Collection : window.d3;\n"
                + "  }));\n"
                + "  Object.assign(window.d3, exports);\n"
                + "};\n"
                + "window.define.amd = true;\n"
                + Files.readString(Path.of("node_modules/d3-jetpack/build/d3-jetpack.cjs")) + "\n"
                + "delete window.define;\ndelete window.__d3Collection;\n"
                // the page's jetpack build gives every chart c.drawAxis(svg); the npm release has d3.drawAxis(c)
                + "(function (conventions) {\n"
                + "  window.d3.conventions = function (options) {\n"
                + "    var c = conventions(options);\n"
                + "    c.drawAxis = function (svg) {\n"
                + "      return window.d3.drawAxis(svg ? Object.assign({}, c, {svg: svg}) : c);\n"
                + "    };\n"
                + "    return c;\n"
                + "  };\n"
                + "})(window.d3.conventions);\n";
    }

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Browser browser;
    private String scan;
    private String feature;
    private String renamedError;

    /** The reference frontend's directory, as configured, or null. */
    static String location() {
        String configured = System.getProperty(PROPERTY, System.getenv(VARIABLE));
        return configured == null || configured.isBlank() ? null : configured;
    }

    static boolean configured() {
        return location() != null;
    }

    @BeforeAll
    void start() throws IOException {
        Path source = Path.of(location());
        assertThat(source.resolve("index.html")).as(VARIABLE + " must name the directory with the frontend's "
                + "index.html").isRegularFile();
        Path artifacts = ReferenceFrontendServingTest.DEMO;
        assertThat(artifacts.resolve("features-plt/index.json.gz")).as("the demo's dashboards").isRegularFile();
        browser = Browser.open();

        Path frontend = tmp.resolve("frontend");
        copyWithLocalScripts(source, frontend);
        Path graphs = tmp.resolve("graphs");
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(artifacts.resolve("model")));
             SparseDictionary dictionary = new ReferencePerLayerProvider().create(DictionarySource.of(
                     artifacts.resolve("transcoders-plt")))) {
            new ReplacementWorkbench(model, dictionary, new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME))).createGraph(
                    new NewGraphRequest(PROMPT, null, "dallas", 10, 0.95, 0, 256, 0.8, 0.98), graphs,
                    AttributionListener.NONE);
        }
        ObjectNode graph = (ObjectNode) TestGraphs.JSON.readTree(graphs.resolve("dallas.json").toFile());
        scan = graph.get("metadata").get("scan").asText();
        withRenamedErrorNode(graph);
        TestGraphs.write(graphs, graph);
        server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(artifacts.resolve("features-plt"))
                .withFrontendDir(frontend).withPort(0));
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void drawsTheGraphWithTheRenamedErrorNodeAndShowsAFeaturesExamples() throws InterruptedException {
        assertThat(scan).as("the demo's transcoders are local").startsWith("/")
                .isEqualTo(ReferenceFrontendServingTest.DEMO.resolve("transcoders-plt").toAbsolutePath().normalize()
                        .toString());
        browser.consoleEntries(); // drain
        browser.driver().get(server.url() + "?slug=dallas");
        waitFor("the link graph's nodes", d -> !d.findElements(By.cssSelector(".link-graph text.node")).isEmpty());
        List<String> drawn = (List<String>) browser.js("return Array.from(document.querySelectorAll("
                + "'.link-graph text.node')).map(e => e.__data__.nodeId)");
        assertThat(drawn).contains(feature, renamedError).hasSizeGreaterThan(10).doesNotHaveDuplicates();
        // the graph menu names each graph by its scan and prompt
        assertThat(browser.find(".graph-prompt-select").getText()).contains(scan, "the capital of the state");

        // the renamed error node is its own node: selecting it shows the error's title, no examples
        clickNode(renamedError);
        browser.wait.until(d -> d.getCurrentUrl().contains("clickedId=" + renamedError));
        browser.wait.until(d -> d.findElement(By.cssSelector(".feature-detail .feature-title")).getText()
                .startsWith("Err:"));

        // the layer-0 feature with the error's old id: its examples and token predictions, from /features/
        clickNode(feature);
        browser.wait.until(d -> d.getCurrentUrl().contains("clickedId=" + feature));
        browser.wait.until(d -> !d.findElements(By.cssSelector(".feature-example-list .ctx-container")).isEmpty());
        WebElement title = browser.find(".feature-detail .feature-title");
        assertThat(title.getText()).startsWith("Feature").contains("/" + feature.split("_")[1]);
        assertThat(browser.driver().findElements(By.cssSelector(".feature-example-list .quantile-title")))
                .isNotEmpty();
        assertThat(browser.driver().findElements(By.cssSelector(".feature-example-list .token.train_token_ind")))
                .isNotEmpty();
        List<String> rows = browser.driver().findElements(By.cssSelector(".feature-example-logits .logit-label"))
                .stream().map(WebElement::getText).toList();
        assertThat(rows).contains("Top", "Bottom");
        assertThat(browser.driver().findElements(By.cssSelector(".feature-example-logits .token"))).isNotEmpty();
        Thread.sleep(500); // let the throttled render settle before the picture
        browser.screenshot("reference-frontend-feature", null);

        // a feature of the attribution itself
        String other = (String) browser.js("return Array.from(document.querySelectorAll('.link-graph text.node'))"
                + ".map(e => e.__data__).filter(d => d.feature_type == 'cross layer transcoder' && d.nodeId != "
                + "arguments[0]).sort((a, b) => a.influence - b.influence)[0].nodeId", feature);
        clickNode(other);
        browser.wait.until(d -> d.getCurrentUrl().contains("clickedId=" + other));
        browser.wait.until(d -> d.findElement(By.cssSelector(".feature-detail .feature-title")).getText()
                .contains("/" + other.split("_")[1]));
        browser.wait.until(d -> !d.findElements(By.cssSelector(".feature-example-list .ctx-container")).isEmpty());

        List<String> errors = browser.consoleErrors();
        assertThat(errors).as("console errors of the reference frontend").isEmpty();
    }

    /** Waits as {@code browser.wait} does; on a timeout, fails with what the console logged meanwhile. */
    private void waitFor(String what, java.util.function.Function<org.openqa.selenium.WebDriver, Boolean> condition) {
        try {
            browser.wait.until(condition);
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("Timed out waiting for " + what + "; the console logged: "
                    + browser.consoleEntries(), e);
        }
    }

    /** A real mouse click on a node where the link graph draws it (the page picks the node nearest the pointer). */
    private void clickNode(String id) {
        WebElement node = (WebElement) browser.js("return Array.from(document.querySelectorAll('.link-graph "
                + "text.node')).find(e => e.__data__.nodeId == arguments[0])", id);
        assertThat(node).as("node " + id + " is drawn").isNotNull();
        new Actions(browser.driver()).moveToElement(node).click().perform();
    }

    /**
     * Makes the graph hold a node-id collision as the exporter resolves it: one of its error nodes, {@code 0_{L}_{p}},
     * becomes {@code 0_{L}_{p}_error}, and the layer-0 feature {@code L} (active in the demo's dashboards) joins the
     * graph at position {@code p} under the id {@code 0_{L}_{p}}, linked from the token and to the target logit.
     */
    private void withRenamedErrorNode(ObjectNode graph) {
        ArrayNode nodes = (ArrayNode) graph.get("nodes");
        ArrayNode links = (ArrayNode) graph.get("links");
        for (JsonNode n : nodes) {
            if (n.get("node_id").asText().endsWith("_error")) { // the exporter met a real collision
                renamedError = n.get("node_id").asText();
                feature = renamedError.substring(0, renamedError.length() - "_error".length());
                return;
            }
        }
        ObjectNode error = null;
        for (JsonNode n : nodes) {
            if (n.get("feature_type").asText().equals("mlp reconstruction error") && n.get("ctx_idx").asInt() > 0) {
                error = (ObjectNode) n;
                break;
            }
        }
        assertThat(error).as("the demo graph has an error node").isNotNull();
        String id = error.get("node_id").asText();
        int layer = Integer.parseInt(error.get("layer").asText());
        int position = error.get("ctx_idx").asInt();
        assertThat(id).isEqualTo("0_" + layer + "_" + position);
        renamedError = id + "_error";
        feature = id;
        error.put("node_id", renamedError);
        for (JsonNode l : links) {
            for (String end : new String[] {"source", "target"}) {
                if (l.get(end).asText().equals(id)) {
                    ((ObjectNode) l).put(end, renamedError);
                }
            }
        }
        String token = null;
        String logit = null;
        for (JsonNode n : nodes) {
            if (n.get("feature_type").asText().equals("embedding") && n.get("ctx_idx").asInt() == position) {
                token = n.get("node_id").asText();
            }
            if (n.path("is_target_logit").asBoolean()) {
                logit = n.get("node_id").asText();
            }
        }
        ObjectNode f = nodes.addObject();
        f.put("node_id", feature);
        f.put("feature", FeatureIds.pair(0, layer));
        f.put("layer", "0");
        f.put("ctx_idx", position);
        f.put("feature_type", "cross layer transcoder");
        f.put("token_prob", 0.0);
        f.put("is_target_logit", false);
        f.put("run_idx", 0);
        f.put("reverse_ctx_idx", 0);
        f.put("jsNodeId", "0_" + layer + "-0");
        f.put("clerp", "");
        f.put("influence", error.path("influence").asDouble(0.5));
        f.put("activation", 1.0);
        addLink(links, token, feature, 0.5);
        addLink(links, feature, logit, 0.25);
    }

    private static void addLink(ArrayNode links, String source, String target, double weight) {
        ObjectNode l = links.addObject();
        l.put("source", source);
        l.put("target", target);
        l.put("weight", weight);
    }

    /**
     * Copies the frontend to {@code target}, with its page's external scripts replaced by local copies under
     * {@code test-vendor/}; a script this test does not know fails it (the browser could not load it).
     */
    static void copyWithLocalScripts(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : files.toList()) {
                Path to = target.resolve(source.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Path vendor = Files.createDirectories(target.resolve("test-vendor"));
        String page = Files.readString(target.resolve("index.html"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("src=(['\"])(https?://[^'\"]+)\\1").matcher(page);
        StringBuilder out = new StringBuilder();
        List<String> unknown = new ArrayList<>();
        Map<String, String> replaced = new LinkedHashMap<>();
        while (m.find()) {
            String url = m.group(2);
            String name = url.substring(url.lastIndexOf('/') + 1);
            String local = SCRIPTS.get(name);
            if (local == null) {
                unknown.add(url);
                continue;
            }
            String file = name;
            if (local.isEmpty()) {
                Files.writeString(vendor.resolve(file), "// " + url + " is not needed by a graph page in this test\n");
            } else {
                Path npm = Path.of(local);
                if (!Files.isRegularFile(npm)) {
                    throw new UncheckedIOException(new IOException(npm.toAbsolutePath() + " is missing: run npm ci in "
                            + "viewers/web (the build does)"));
                }
                if (name.startsWith("jetpack")) {
                    Files.writeString(vendor.resolve(file), jetpackForD3v7());
                } else {
                    Files.copy(npm, vendor.resolve(file));
                }
            }
            replaced.put(url, file);
            m.appendReplacement(out, Matcher.quoteReplacement("src=" + m.group(1) + "./test-vendor/" + file
                    + m.group(1)));
        }
        m.appendTail(out);
        assertThat(unknown).as("external scripts of the reference page with no local copy").isEmpty();
        assertThat(replaced).as("the page's external scripts").hasSize(SCRIPTS.size());
        Files.writeString(target.resolve("index.html"), out.toString(), StandardCharsets.UTF_8);
    }
}
