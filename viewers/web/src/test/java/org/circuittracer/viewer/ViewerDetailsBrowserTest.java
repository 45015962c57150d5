package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The rest of issue 17 in Chromium on the tiny llama's graph with the model loaded: search by the shown feature name
 * and by token, the connections pane's order, logit-difference nodes, the detail tooltip inside the window, crowded
 * columns, ghost ids in URL state, exact steering target changes, target checks in the New graph form, scores in the
 * graph list and while they compute. With {@code -Dviewer.docsImages=DIR} it also writes the screenshots of
 * docs/viewer.md into DIR.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ViewerDetailsBrowserTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Browser browser;
    private JsonNode tiny;

    @BeforeAll
    void start() throws Exception {
        browser = Browser.open();
        Path graphs = tmp.resolve("graphs");
        TinyModel.graph(graphs, "tiny");
        tiny = TestGraphs.JSON.readTree(graphs.resolve("tiny.json").toFile());
        TestGraphs.writePackedFeatures(tmp.resolve("features"), tiny);
        for (String slug : List.of("tiny-ghost", "tiny-shots", "tiny-async")) {
            copy(slug);
        }
        // a logit-difference target as `attribute --target A-B` exports it: virtual index past the vocabulary,
        // label "A − B" of the two tokens' texts, weight 1 written as p=1.000
        ObjectNode diff = copy("tiny-diff");
        List<ObjectNode> logits = logits(diff);
        String a = quoted(logits.get(0).get("clerp").asText());
        String b = quoted(logits.get(1).get("clerp").asText());
        ObjectNode target = logits.get(0);
        target.put("feature", 160);
        target.put("clerp", "Output \"" + a + " \u2212 " + b + "\" (p=1.000)");
        target.put("token_prob", 1.0);
        target.put("is_target_logit", true);
        TestGraphs.write(graphs, diff);
        TestGraphs.write(graphs, TestGraphs.largeGraph("crowd", 800, 3, 2, 2, 5));
        server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(tmp.resolve("features")).withPort(0)
                .withWorkbench(TinyModel.workbench()));
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

    private ObjectNode copy(String slug) {
        ObjectNode g = tiny.deepCopy();
        ((ObjectNode) g.get("metadata")).put("slug", slug);
        TestGraphs.write(tmp.resolve("graphs"), g);
        return g;
    }

    /** The graph's logit nodes, most probable first. */
    private static List<ObjectNode> logits(JsonNode graph) {
        List<ObjectNode> out = new java.util.ArrayList<>();
        graph.get("nodes").forEach(n -> {
            if ("logit".equals(n.path("feature_type").asText())) {
                out.add((ObjectNode) n);
            }
        });
        out.sort(java.util.Comparator.comparingDouble(n -> -n.path("token_prob").asDouble()));
        return out;
    }

    private static String quoted(String clerp) {
        return clerp.substring(clerp.indexOf('"') + 1, clerp.lastIndexOf('"'));
    }

    private void load(String query) {
        browser.open(server.url() + "?" + query);
    }

    private Object state(String expression) {
        return browser.js("return window.viewer.state." + expression);
    }

    @SuppressWarnings("unchecked")
    private List<String> search(String query) {
        WebElement box = browser.find("#search");
        box.clear();
        box.sendKeys(query);
        browser.wait.until(d -> query.equals(state("search")));
        return (List<String>) browser.js("return [...window.viewer.state.searchHits]");
    }

    @Test
    @SuppressWarnings("unchecked")
    void searchFindsTheShownFeatureNameAndTheFeaturesAtAToken() {
        load("slug=tiny");
        // a labelled feature: lists show the label, the header its name L<layer>/<index>; both find it
        Map<String, Object> f = (Map<String, Object>) browser.js("const m = window.viewer.state.model;"
                + "const n = m.nodes.filter(n => n.kind === 'feature').sort((a, b) => a.influence - b.influence)[0];"
                + "return {id: n.id, name: `L${n.featureLayerIndex[0]}/${n.featureLayerIndex[1]}`, pos: n.pos};");
        String id = (String) f.get("id");
        browser.js("window.viewer.update({labels: {[arguments[0]]: 'capital cities'}}, 'label')", id);
        assertThat(search((String) f.get("name"))).contains(id);
        assertThat(search("capital cit")).contains(id);

        // a prompt token finds its embedding and every feature at its position, not just the embedding
        String token = ((String) browser.js("return window.viewer.state.model.tokens[arguments[0]]", f.get("pos"))).trim();
        List<String> atToken = (List<String>) browser.js("const m = window.viewer.state.model;"
                + "return m.nodes.filter(n => n.kind === 'feature' && m.tokens[n.pos].trim().toLowerCase()"
                + " === arguments[0].toLowerCase()).map(n => n.id)", token);
        assertThat(atToken).contains(id);
        List<String> hits = search(token);
        assertThat(hits).containsAll(atToken);
        assertThat(browser.find("#search-count").getText()).isEqualTo(hits.size() + " found");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theEmbeddingsOutputsAreSortedByWeight() {
        load("slug=tiny");
        // an embedding whose outputs a sort by share of each target's input would put out of weight order
        String id = (String) browser.js("const m = window.viewer.state.model;"
                + "const order = (ls, key) => ls.filter(l => l.weight > 0).sort((a, b) => key(b) - key(a)).map(l => l.target.id).join();"
                + "const e = m.nodes.find(n => n.kind === 'embedding'"
                + " && order(n.outputs, l => l.pct) !== order(n.outputs, l => l.weight));"
                + "return e ? e.id : null;");
        assertThat(id).as("an embedding whose outputs' shares and weights disagree in order").isNotNull();
        browser.js("window.viewer.update({clickedId: arguments[0]}, 'select')", id);
        browser.wait.until(d -> browser.find("#pane-connections .conn-header").getText().contains(id));
        List<Double> weights = (List<Double>) browser.js("const col = document.querySelectorAll('#pane-connections .conn-col')[1];"
                + "return [...col.querySelectorAll('.conn-weight')].map(e => Number(e.textContent.replace('+', '')))");
        List<Double> positive = weights.stream().filter(w -> w > 0).toList();
        List<Double> negative = weights.stream().filter(w -> w < 0).toList();
        assertThat(positive.size()).isGreaterThan(1);
        assertThat(positive).isSortedAccordingTo((a, b) -> Double.compare(b, a));
        assertThat(negative).isSortedAccordingTo(Double::compare);
    }

    @Test
    void aLogitDifferenceTargetSaysWhatItIsAndSteeringReportsItsValue() {
        load("slug=tiny-diff");
        String id = (String) browser.js("return window.viewer.state.model.nodes.find(n => n.raw.is_target_logit).id");
        browser.js("window.viewer.update({clickedId: arguments[0]}, 'select')", id);
        browser.wait.until(d -> browser.find("#pane-connections .conn-header").getText().contains(id));
        String header = browser.find("#pane-connections .conn-header").getText();
        assertThat(header).contains("Logit diff", "\u2212").doesNotContain("p=1.000");
        WebElement stats = browser.wait.until(d -> d.findElement(By.cssSelector("#pane-feature .logit-diff")));
        assertThat(stats.getText()).contains("logit diff", "Σ inputs");
        // Σ is the sum of the node's direct inputs over every link of the file
        double sum = 0;
        for (JsonNode l : readGraph("tiny-diff").get("links")) {
            if (l.get("target").asText().equals(id)) {
                sum += l.get("weight").asDouble();
            }
        }
        assertThat(((Number) browser.js("return window.viewer.state.model.byId.get(arguments[0]).inputSum", id))
                .doubleValue()).isCloseTo(sum, within(1e-4));

        // steering reports the difference's value itself (logit A − logit B), unsteered and steered
        String feature = (String) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence)[0].id");
        browser.js("window.viewer.update({pinnedIds: [arguments[0]]}, 'annotations')", feature);
        browser.find("#btn-steer").click();
        browser.find("#steer-ablate").click();
        browser.find("#steer-run").click();
        WebElement line = browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-steer .steer-target")));
        assertThat(line.getAttribute("data-kind")).isEqualTo("difference");
        assertThat(line.getText()).contains("logit diff", "\u2212").doesNotContain("%");
        JsonNode out = steer("tiny-diff", feature, 10);
        JsonNode t = out.get("target");
        assertThat(t.get("kind").asText()).isEqualTo("difference");
        assertThat(Double.parseDouble(line.getAttribute("data-before"))).isCloseTo(t.get("unsteered").get("logit")
                .asDouble(), within(1e-6));
        // where both tokens are among the candidates, the value is their logits' difference
        JsonNode first = out.get("unsteered").get("steps").get(0).get("candidates");
        Double a = null;
        Double b = null;
        for (JsonNode c : first) {
            if (c.get("tokenId").asInt() == t.get("tokenIds").get(0).asInt()) {
                a = c.get("logit").asDouble();
            }
            if (c.get("tokenId").asInt() == t.get("tokenIds").get(1).asInt()) {
                b = c.get("logit").asDouble();
            }
        }
        assertThat(a).as("the most probable logits are among the top 10").isNotNull();
        assertThat(b).isNotNull();
        assertThat(t.get("unsteered").get("logit").asDouble()).isCloseTo(a - b, within(1e-4));
        browser.find("#dialog-steer .close").click();
    }

    private JsonNode steer(String slug, String feature, int topK) {
        return Client.body(new Client(server.url()).post("/api/graphs/" + slug + "/steer", Map.of("interventions",
                List.of(Map.of("nodeId", feature, "mode", "set", "value", 0)), "topK", topK, "maxNewTokens", 2)));
    }

    private static JsonNode readGraph(String slug) {
        try {
            return TestGraphs.JSON.readTree(tmp.resolve("graphs").resolve(slug + ".json").toFile());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void steeringGivesTheTargetsChangeExactlyWhateverItsRank() throws Exception {
        load("slug=tiny");
        String feature = (String) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence)[0].id");
        // a token of rank 40 in the unsteered run: far outside the page's top 10
        JsonNode wide = steer("tiny", feature, 50);
        JsonNode rare = wide.get("unsteered").get("steps").get(0).get("candidates").get(39);
        ObjectNode g = copy("tiny-rare");
        ObjectNode target = logits(g).get(0);
        target.put("feature", rare.get("tokenId").asInt());
        target.put("clerp", "Output \"" + rare.get("token").asText() + "\" (p=0.000)");
        target.put("is_target_logit", true);
        TestGraphs.write(tmp.resolve("graphs"), g);

        load("slug=tiny-rare");
        browser.js("window.viewer.update({pinnedIds: [arguments[0]]}, 'annotations')", feature);
        browser.find("#btn-steer").click();
        browser.find("#steer-ablate").click();
        browser.find("#steer-run").click();
        WebElement line = browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-steer .steer-target")));
        List<Object> shown = (List<Object>) browser.js("return [...document.querySelectorAll('#dialog-steer "
                + ".steer-col[data-run=unsteered] table.steps tr:nth-child(2) td')].map(e => e.textContent)");
        assertThat(shown.get(2).toString()).as("the page's top 10 do not hold the target")
                .doesNotContain(rare.get("token").asText() + "\" ");
        // exact, not the "< p" bound: the probability the top-50 run reported, and a change
        assertThat(line.getText()).doesNotContain("<");
        assertThat(Double.parseDouble(line.getAttribute("data-before"))).isCloseTo(rare.get("probability").asDouble(),
                within(1e-9));
        assertThat(line.getAttribute("data-after")).isNotEmpty();
        assertThat(line.findElements(By.cssSelector(".up, .down"))).hasSize(1);
        browser.find("#dialog-steer .close").click();
    }

    @Test
    void theAltTooltipStaysInsideTheWindow() {
        load("slug=tiny");
        // an embedding sits on the bottom row: the tooltip with every field below it would leave the graph pane
        String id = (String) browser.js("return window.viewer.state.model.nodes.find(n => n.kind === 'embedding').id");
        browser.js("const p = window.viewer.graphPane.nodeScreenPosition(arguments[0]);"
                + "const c = window.viewer.graphPane.canvas; const r = c.getBoundingClientRect();"
                + "c.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + p.x, clientY: r.top + p.y,"
                + " altKey: true, bubbles: true}));", id);
        WebElement tip = browser.find("#pane-graph .tooltip");
        browser.wait.until(d -> tip.isDisplayed());
        assertThat(tip.findElements(By.cssSelector(".tt-field")).size()).as("Alt shows every field").isGreaterThan(5);
        @SuppressWarnings("unchecked")
        Map<String, Object> box = (Map<String, Object>) browser.js("const t = document.querySelector('#pane-graph .tooltip');"
                + "const r = t.getBoundingClientRect();"
                + "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
                + " vw: document.documentElement.clientWidth, vh: document.documentElement.clientHeight,"
                + " clipped: t.scrollHeight > t.clientHeight + 1};");
        assertThat(((Number) box.get("left")).doubleValue()).isGreaterThanOrEqualTo(0);
        assertThat(((Number) box.get("top")).doubleValue()).isGreaterThanOrEqualTo(0);
        assertThat(((Number) box.get("right")).doubleValue()).isLessThanOrEqualTo(((Number) box.get("vw")).doubleValue());
        assertThat(((Number) box.get("bottom")).doubleValue()).isLessThanOrEqualTo(((Number) box.get("vh")).doubleValue());
        assertThat(box.get("clipped")).as("content cut off").isEqualTo(false);
        // nothing of the page covers it, and no pane edge cuts it (a point outside the pane would show another pane)
        browser.js("document.querySelector('#pane-graph .tooltip').style.pointerEvents = 'auto'");
        assertThat(browser.js("const t = document.querySelector('#pane-graph .tooltip'); const r = t.getBoundingClientRect();"
                + "return [[r.left + 2, r.top + 2], [r.right - 2, r.top + 2], [r.left + 2, r.bottom - 2], [r.right - 2, r.bottom - 2]]"
                + ".every(([x, y]) => { const e = document.elementFromPoint(x, y); return e === t || t.contains(e); })"))
                .as("every corner of the tooltip is the tooltip").isEqualTo(true);
        browser.screenshot("tooltip-alt", null);
    }

    @Test
    @SuppressWarnings("unchecked")
    void crowdedColumnsKeepTheirNodesApart() {
        load("slug=crowd");
        Map<String, Object> crowd = (Map<String, Object>) browser.js("const m = window.viewer.state.model;"
                + "const g = window.viewer.graphPane; const cells = new Map();"
                + "for (const n of m.nodes) { if (n.kind !== 'feature') continue; const k = n.pos + ':' + n.row;"
                + "  cells.set(k, [...(cells.get(k) || []), n]); }"
                + "let most = 0, min = Infinity;"
                + "const all = m.nodes.map(n => g.nodeScreenPosition(n.id));"
                + "for (const list of cells.values()) most = Math.max(most, list.length);"
                + "for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++)"
                + "  min = Math.min(min, Math.hypot(all[i].x - all[j].x, all[i].y - all[j].y));"
                + "return {most, min, r: g.nodeRadius ? g.nodeRadius() : 0, nodes: m.nodes.length};");
        assertThat(((Number) crowd.get("most")).intValue()).as("nodes in the most crowded cell").isGreaterThan(150);
        double min = ((Number) crowd.get("min")).doubleValue();
        double r = ((Number) crowd.get("r")).doubleValue();
        // every node apart from every other: at least 5 px between centres and a gap between the circles
        assertThat(min).isGreaterThanOrEqualTo(5);
        assertThat(min).isGreaterThan(2 * r);
        browser.screenshot("graph-crowded", browser.find("#pane-graph"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void ghostIdsInTheUrlAreDroppedWithANotice() throws Exception {
        load("slug=tiny-ghost");
        List<String> f = (List<String>) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence).slice(0, 2).map(n => n.id)");
        String supernodes = TestGraphs.JSON.writeValueAsString(List.of(List.of("kept", "9_9_9", f.get(1)),
                List.of("ghosts", "8_8_8")));
        load("slug=tiny-ghost&pinnedIds=" + f.get(0) + ",7_7_7&clickedId=6_6_6&supernodes="
                + java.net.URLEncoder.encode(supernodes, java.nio.charset.StandardCharsets.UTF_8));
        browser.wait.until(d -> !((List<?>) state("pinnedIds")).contains("7_7_7"));
        assertThat((List<Object>) state("pinnedIds")).containsExactly(f.get(0));
        assertThat((List<Object>) state("supernodes")).containsExactly(List.of("kept", f.get(1)));
        assertThat(state("clickedId")).isNull();
        String notice = browser.find("#message").getText();
        assertThat(notice).contains("dropped", "7_7_7", "9_9_9", "8_8_8", "ghosts", "6_6_6");
        browser.wait.until(d -> !d.getCurrentUrl().contains("7_7_7"));
        assertThat(browser.driver().getCurrentUrl()).doesNotContain("9_9_9").doesNotContain("8_8_8")
                .doesNotContain("6_6_6").contains(f.get(0));
        // the server says which kept ids it does not know
        JsonNode view = Client.body(new Client(server.url()).get("/api/graphs/tiny-ghost/view?keep=" + f.get(0)
                + ",7_7_7"));
        assertThat(view.get("view").get("unknownKeep")).hasSize(1);
        assertThat(view.get("view").get("unknownKeep").get(0).asText()).isEqualTo("7_7_7");
    }

    @Test
    void aBadTargetIsRefusedAtSubmission() {
        load("slug=tiny");
        HttpResponse<byte[]> r = new Client(server.url()).post("/api/graphs", Map.of("prompt", "the cat sat",
                "slug", "bad-target", "targets", List.of("no such token at all")));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Client.text(r)).contains("Target", "no such token at all", "neither one token");

        browser.find("#btn-new").click();
        browser.find("#dialog-new textarea[name=prompt]").sendKeys("the cat sat");
        WebElement targets = browser.find("#new-targets");
        targets.sendKeys("no such token at all");
        browser.find("#create-graph").click();
        WebElement error = browser.wait.until(d -> d.findElement(By.cssSelector("#new-targets-error")));
        browser.wait.until(d -> error.isDisplayed());
        assertThat(error.getText()).contains("no such token at all");
        assertThat(targets.getAttribute("aria-invalid")).isEqualTo("true");
        assertThat(browser.find("#dialog-new .job-log").getText()).doesNotContain("Started").doesNotContain("Failed");
        assertThat(Files.exists(tmp.resolve("graphs/the-cat-sat.json"))).isFalse();
        browser.find("#dialog-new .close").click();
    }

    @Test
    void theGraphListShowsEachGraphsScoresFromTheIndex() throws Exception {
        JsonNode index = TestGraphs.JSON.readTree(tmp.resolve("graphs/graph-metadata.json").toFile());
        JsonNode entry = null;
        for (JsonNode e : index.get("graphs")) {
            if (e.get("slug").asText().equals("tiny")) {
                entry = e;
            }
        }
        JsonNode fileScores = tiny.get("metadata").get("graph_scores");
        assertThat(entry).isNotNull();
        assertThat(entry.get("graph_scores")).as("the index entry carries the graph's scores").isEqualTo(fileScores);
        load("slug=tiny");
        WebElement option = browser.find("#graph-select option[value=tiny]");
        assertThat(Double.parseDouble(option.getAttribute("data-replacement")))
                .isEqualTo(fileScores.get("replacement").asDouble());
        assertThat(option.getText()).contains("repl.", "compl.",
                String.format(java.util.Locale.ROOT, "%.2f", fileScores.get("completeness").asDouble()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void thePageAnswersWhileScoresAreComputed() {
        load("slug=tiny-async");
        // hold every scores request until released, as a slow server would
        browser.js("window.__release = []; const real = window.fetch;"
                + "window.fetch = (url, init) => String(url).includes('/scores')"
                + " ? new Promise(ok => window.__release.push(() => ok(real(url, init)))) : real(url, init);");
        List<String> f = (List<String>) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence).slice(0, 2).map(n => n.id)");
        browser.js("window.viewer.update({pinnedIds: [arguments[0]]}, 'annotations')", f.get(0));
        browser.wait.until(d -> "true".equals(browser.find("#scores").getAttribute("data-pending")));
        // meanwhile the page answers: a click selects, the panes follow, a pin lands
        browser.clickNode(f.get(1), null);
        browser.wait.until(d -> browser.find("#pane-connections .conn-header").getText().contains(f.get(1)));
        browser.clickNode(f.get(1), Keys.CONTROL);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box")).size() == 2);
        assertThat(browser.find("#scores").getAttribute("data-pending")).isEqualTo("true");
        browser.js("window.__release.forEach(f => f()); window.__release = [];"
                + "window.__hold = setInterval(() => { window.__release.forEach(f => f()); window.__release = []; }, 20);");
        browser.wait.until(d -> browser.find("#scores").getAttribute("data-pending") == null
                && browser.js("return window.viewer.scores && window.viewer.scores.subgraph && window.viewer.scores.subgraph.pinned")
                instanceof Number n && n.intValue() == 2);
    }

    @Test
    @SuppressWarnings("unchecked")
    void docsScreenshots() throws IOException {
        load("slug=tiny-shots");
        // the most influential features, taken in turn from each token so the picture shows several columns
        List<String> ten = (List<String>) browser.js("const f = window.viewer.state.model.nodes"
                + ".filter(n => n.kind === 'feature').sort((a, b) => a.influence - b.influence);"
                + "const byPos = new Map(); f.forEach(n => byPos.set(n.pos, [...(byPos.get(n.pos) || []), n]));"
                + "const lists = [...byPos.values()]; const out = [];"
                + "for (let i = 0; out.length < 10 && i < f.length; i++) for (const l of lists)"
                + "  if (out.length < 10 && l[i]) out.push(l[i].id);"
                + "return out;");
        assertThat(ten).hasSize(10);
        browser.js("window.viewer.update({pinnedIds: arguments[0]}, 'annotations')", ten);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box")).size() == 10);
        browser.wait.until(d -> browser.js("return window.viewer.scores && window.viewer.scores.subgraph"
                + " && window.viewer.scores.subgraph.pinned") instanceof Number n && n.intValue() == 10);
        browser.wait.until(d -> browser.find("#scores").getAttribute("data-pending") == null);
        browser.screenshot("docs-viewer-subgraph", browser.find("#pane-subgraph"));
        browser.screenshot("docs-viewer-scores", browser.find("#pane-subgraph .pane-head"));
        Path shots = Path.of(System.getProperty("screenshot.dir", "target/screenshots"));
        String docs = System.getProperty("viewer.docsImages");
        for (String name : List.of("docs-viewer-subgraph", "docs-viewer-scores")) {
            Path png = shots.resolve(name + ".png");
            assertThat(Files.size(png)).as(name).isLessThan(300 * 1024);
            if (docs != null && !docs.isBlank()) {
                Files.createDirectories(Path.of(docs));
                Files.copy(png, Path.of(docs).resolve(name.substring("docs-".length()) + ".png"),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
