package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;

/**
 * The whole viewer in Chromium on a real attribution graph (tiny llama) with feature files and a loaded model:
 * select, read the feature, pin, group, label, reload, steer, create a graph. Screenshots of each pane go to
 * target/screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ViewerBrowserTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private static String fileClerpNode;

    /** Writes a copy of the tiny graph under another slug (and into the index); returns it for further edits. */
    private static ObjectNode copy(JsonNode graph, String slug) {
        ObjectNode g = graph.deepCopy();
        ((ObjectNode) g.get("metadata")).put("slug", slug);
        TestGraphs.write(tmp.resolve("graphs"), g);
        return g;
    }

    /** The graph's feature nodes, most influential first. */
    private static List<JsonNode> features(JsonNode graph) {
        List<JsonNode> out = new ArrayList<>();
        graph.get("nodes").forEach(n -> {
            if (n.path("feature_type").asText().contains("transcoder")) {
                out.add(n);
            }
        });
        out.sort(java.util.Comparator.comparingDouble(n -> n.path("influence").asDouble(1)));
        return out;
    }
    private Browser browser;

    @BeforeAll
    void start() throws Exception {
        browser = Browser.open();
        Path graphs = tmp.resolve("graphs");
        TinyModel.graph(graphs, "tiny");
        JsonNode graph = TestGraphs.JSON.readTree(graphs.resolve("tiny.json").toFile());
        TestGraphs.writePackedFeatures(tmp.resolve("features"), graph);
        // tests that change annotations work on copies, so the order of the tests does not matter
        for (String slug : List.of("tiny-layout", "tiny-a", "tiny-steer", "tiny-url", "tiny-scores", "tiny-labels")) {
            copy(graph, slug);
        }
        // the graph file's own label overrides, in the reference's form: a JSON string of [[key, label], ...]
        ObjectNode clerps = copy(graph, "tiny-clerps");
        fileClerpNode = features(graph).get(3).get("node_id").asText();
        ((ObjectNode) clerps.get("qParams")).put("clerps", TestGraphs.JSON.writeValueAsString(
                List.of(List.of(fileClerpNode, "from the file"))));
        TestGraphs.write(graphs, clerps);
        // a graph as a chat makes it: the template wrote the first token (the page dims it)
        ObjectNode chat = copy(graph, "tiny-chat");
        ((ObjectNode) chat.get("metadata")).putArray("template_positions").add(0);
        TestGraphs.write(graphs, chat);
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

    private void load(String query) {
        browser.open(server.url() + "?" + query);
    }

    /** Two feature nodes drawn apart from each other, most influential first. */
    @SuppressWarnings("unchecked")
    private List<String> twoFeatures() {
        return (List<String>) browser.js("const m = window.viewer.state.model;"
                + "const f = m.nodes.filter(n => n.kind === 'feature').sort((a, b) => a.influence - b.influence);"
                + "const g = window.viewer.graphPane; const out = [f[0].id];"
                + "for (const n of f) { const a = g.nodeScreenPosition(out[0]), b = g.nodeScreenPosition(n.id);"
                + "  if (Math.hypot(a.x - b.x, a.y - b.y) > 25) { out.push(n.id); break; } } return out;");
    }

    private Object state(String expression) {
        return browser.js("return window.viewer.state." + expression);
    }

    private void waitSaved() {
        browser.wait.until(d -> "saved".equals(browser.find("#save-state").getAttribute("data-state")));
    }

    @Test
    void researcherWorkflow() {
        load("slug=tiny");
        browser.screenshot("page-initial", null);
        List<String> ids = twoFeatures();
        assertThat(ids).hasSize(2);

        // click a node: its connections and its feature's examples appear
        browser.clickNode(ids.get(0), null);
        browser.wait.until(d -> ids.get(0).equals(state("clickedId")));
        browser.wait.until(d -> !d.findElements(By.cssSelector("#pane-feature .example")).isEmpty());
        assertThat(browser.find("#pane-connections .conn-header").getText()).contains(ids.get(0));
        assertThat(browser.find("#pane-feature .feat-title").getText()).startsWith("Feature L");
        assertThat(browser.driver().findElements(By.cssSelector("#pane-feature .tok.train"))).isNotEmpty();
        assertThat(browser.find("#pane-feature .histogram")).isNotNull();
        assertThat(browser.find("#pane-feature").getText()).contains("Promotes", "Top activations", "’");
        assertThat(browser.driver().getCurrentUrl()).contains("clickedId=" + ids.get(0));
        browser.screenshot("pane-graph", browser.find("#pane-graph"));
        browser.screenshot("pane-connections", browser.find("#pane-connections"));
        browser.screenshot("pane-feature", browser.find("#pane-feature"));

        // label the selected node
        WebElement label = browser.find("#pane-feature .label-input");
        label.clear();
        label.sendKeys("cat detector", Keys.ENTER);
        browser.wait.until(d -> "cat detector".equals(state("labels['" + ids.get(0) + "']")));

        // ctrl-click pins two nodes
        browser.clickNode(ids.get(0), Keys.CONTROL);
        browser.clickNode(ids.get(1), Keys.CONTROL);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box")).size() == 2);
        assertThat(browser.driver().getCurrentUrl()).contains("pinnedIds=");

        // shift-click both boxes, group them, name the supernode
        for (int i = 0; i < 2; i++) { // each click redraws the pane: find the box afresh
            WebElement box = browser.driver().findElements(By.cssSelector("#pane-subgraph .sg-box")).get(i);
            new Actions(browser.driver()).keyDown(Keys.SHIFT).click(box).keyUp(Keys.SHIFT).perform();
        }
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box.selected")).size() == 2);
        browser.find("#btn-group").click();
        WebElement edit = browser.wait.until(d -> d.findElement(By.cssSelector("#pane-subgraph .sg-edit")));
        edit.sendKeys(Keys.chord(Keys.CONTROL, "a"), "cat circuit", Keys.ENTER);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box.group")).size() == 1);
        assertThat(browser.find("#pane-subgraph .sg-box.group .sg-label").getText()).isEqualTo("cat circuit");
        assertThat(browser.driver().getCurrentUrl()).contains("supernodes=");
        String logit = (String) browser.js("return window.viewer.state.model.nodes.find(n => n.raw.is_target_logit).id");
        browser.clickNode(logit, Keys.CONTROL);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box")).size() == 2);
        browser.wait.until(d -> !d.findElements(By.cssSelector("#pane-subgraph .sg-links path")).isEmpty());
        waitSaved();
        browser.screenshot("pane-subgraph", browser.find("#pane-subgraph"));

        // reload from the server's annotations alone (no state in the URL)
        load("slug=tiny");
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box.group")).size() == 1);
        assertThat(browser.find("#pane-subgraph .sg-box.group .sg-label").getText()).isEqualTo("cat circuit");
        assertThat(browser.find("#pane-subgraph .sg-box.group").getAttribute("data-node-ids").split(","))
                .containsExactlyInAnyOrderElementsOf(ids);
        assertThat((List<Object>) state("pinnedIds")).containsExactlyInAnyOrder((Object) ids.get(0), ids.get(1), logit);
        assertThat(state("labels['" + ids.get(0) + "']")).isEqualTo("cat detector");
        assertThat(state("clickedId")).isEqualTo(ids.get(0));
        browser.screenshot("page-restored", null);

        // steer with the supernode: steered and unsteered side by side
        browser.find("#btn-steer").click();
        browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-steer")).isDisplayed());
        assertThat(browser.find("#dialog-steer .steer-name").getText()).contains("cat circuit");
        // each intervention says where it acts; the ablate preset sets every row to 0
        assertThat(browser.find("#dialog-steer .steer-pos").getText()).startsWith("@");
        browser.find("#steer-ablate").click();
        for (WebElement row : browser.driver().findElements(By.cssSelector("#dialog-steer .steer-row"))) {
            assertThat(new Select(row.findElement(By.cssSelector("select"))).getFirstSelectedOption()
                    .getAttribute("value")).isEqualTo("set");
            assertThat(row.findElement(By.cssSelector("input[type=number]")).getAttribute("value")).isEqualTo("0");
        }
        browser.find("#steer-run").click();
        browser.wait.until(d -> d.findElements(By.cssSelector("#dialog-steer .steer-col")).size() == 2);
        // probabilities next to the logits, and the target token's change at the first new token
        assertThat(browser.find("#dialog-steer .steer-col[data-run=steered] table.steps").getText()).contains("%");
        assertThat(browser.find("#dialog-steer .steer-target").getText()).contains("Target", "unsteered", "steered");
        assertThat(browser.find("#dialog-steer .steer-col[data-run=unsteered] h3").getText()).isEqualTo("Unsteered");
        assertThat(browser.find("#dialog-steer .steer-col[data-run=steered] .continuation").getText()).isNotEmpty();
        browser.screenshot("panel-steer", browser.find("#dialog-steer"));
        browser.find("#dialog-steer .close").click();

        // the help overlay lists the shortcuts
        new Actions(browser.driver()).sendKeys("?").perform();
        browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-help")).isDisplayed());
        assertThat(browser.find("#dialog-help").getText()).contains("Pin or unpin", "Group the selected boxes");
        browser.screenshot("overlay-help", browser.find("#dialog-help"));
        new Actions(browser.driver()).sendKeys(Keys.ESCAPE).perform();
    }

    private double scoreShown(String name) {
        return Double.parseDouble(browser.wait.until(d -> {
            List<WebElement> e = d.findElements(By.cssSelector("#scores [data-score='" + name + "']"));
            return e.isEmpty() || e.get(0).getAttribute("data-value").isEmpty() ? null : e.get(0).getAttribute("data-value");
        }));
    }

    /** The server's scores of the page's current pins. */
    @SuppressWarnings("unchecked")
    private JsonNode serverScores() {
        List<Object> pins = (List<Object>) state("pinnedIds");
        return Client.body(new Client(server.url()).post("/api/graphs/tiny-scores/scores", Map.of("pinnedIds", pins)));
    }

    @Test
    void scoresPanelFollowsThePinsAndTheGraphDownloads() throws Exception {
        load("slug=tiny-scores");
        JsonNode file = TestGraphs.JSON.readTree(tmp.resolve("graphs/tiny-scores.json").toFile());
        JsonNode stored = file.get("metadata").get("graph_scores");
        assertThat(stored).as("the exporter stores the unpruned graph's scores").isNotNull();
        assertThat(scoreShown("graph-replacement")).isEqualTo(stored.get("replacement").asDouble());
        assertThat(scoreShown("graph-completeness")).isEqualTo(stored.get("completeness").asDouble());
        assertThat(browser.find("#scores").getText()).contains("repl. / compl.", "graph", "pinned: none");

        List<String> ids = twoFeatures();
        browser.clickNode(ids.get(0), Keys.CONTROL);
        browser.clickNode(ids.get(1), Keys.CONTROL);
        browser.wait.until(d -> ((List<?>) state("pinnedIds")).size() == 2);
        JsonNode two = serverScores().get("subgraph");
        browser.wait.until(d -> browser.js("return window.viewer.scores && window.viewer.scores.subgraph"
                + " && window.viewer.scores.subgraph.pinned") instanceof Number n && n.intValue() == 2);
        assertThat(scoreShown("pinned-replacement")).isEqualTo(two.get("replacement").asDouble());
        assertThat(scoreShown("pinned-completeness")).isEqualTo(two.get("completeness").asDouble());
        browser.screenshot("pane-subgraph-scores", browser.find("#pane-subgraph"));

        // unpin one: the panel shows the one-node subgraph's scores
        browser.clickNode(ids.get(1), Keys.CONTROL);
        browser.wait.until(d -> ((List<?>) state("pinnedIds")).size() == 1);
        JsonNode one = serverScores().get("subgraph");
        browser.wait.until(d -> browser.js("return window.viewer.scores.subgraph && window.viewer.scores.subgraph.pinned")
                instanceof Number n && n.intValue() == 1);
        assertThat(scoreShown("pinned-replacement")).isEqualTo(one.get("replacement").asDouble());
        assertThat(scoreShown("pinned-completeness")).isEqualTo(one.get("completeness").asDouble());
        browser.clickNode(ids.get(1), Keys.CONTROL);
        browser.wait.until(d -> ((List<?>) state("pinnedIds")).size() == 2);

        // downloads: the subgraph holds the pinned nodes; the whole graph all of the file's
        browser.find("#share-menu summary").click();
        // the open menu lies below the top bar, whole (not clipped by the bar's sideways scrolling)
        assertThat(browser.find("#btn-download-subgraph").getRect().getY())
                .isGreaterThan(browser.find(".topbar").getRect().getY() + browser.find(".topbar").getRect().getHeight() - 1);
        assertThat((Boolean) browser.js("const b = document.querySelector('#btn-download-subgraph').getBoundingClientRect();"
                + "const e = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);"
                + "return e === document.querySelector('#btn-download-subgraph');")).isTrue();
        browser.screenshot("menu-share", null);
        browser.find("#btn-download-subgraph").click();
        browser.wait.until(d -> browser.js("return window.viewer.lastDownload") != null);
        JsonNode sub = TestGraphs.JSON.readTree((String) browser.js("return window.viewer.lastDownload.text"));
        List<String> nodeIds = new ArrayList<>();
        sub.get("nodes").forEach(n -> nodeIds.add(n.get("node_id").asText()));
        assertThat(nodeIds).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(sub.get("qParams").get("pinnedIds")).hasSize(2);
        assertThat(sub.get("metadata").get("slug").asText()).isEqualTo("tiny-scores-subgraph");
        assertThat(browser.js("return window.viewer.lastDownload.name")).isEqualTo("tiny-scores-subgraph.json");
        browser.js("window.viewer.lastDownload = null");
        browser.find("#share-menu summary").click();
        browser.find("#btn-download-graph").click();
        browser.wait.until(d -> browser.js("return window.viewer.lastDownload") != null);
        JsonNode whole = TestGraphs.JSON.readTree((String) browser.js("return window.viewer.lastDownload.text"));
        assertThat(whole.get("nodes")).hasSize(file.get("nodes").size());
        assertThat(whole.get("links")).hasSize(file.get("links").size());
        assertThat(whole.get("qParams").get("pinnedIds")).hasSize(2);

        // copy link: the address with the pins
        browser.find("#share-menu summary").click();
        browser.find("#btn-copy-link").click();
        browser.wait.until(d -> browser.js("return window.viewer.lastCopied") != null);
        assertThat((String) browser.js("return window.viewer.lastCopied")).contains("slug=tiny-scores", "pinnedIds=",
                ids.get(0));
    }

    /** The labels dialog lists, edits, exports and imports labels; saved subgraphs are renamed and deleted. */
    @Test
    @SuppressWarnings("unchecked")
    void labelsListAndSavedSubgraphs() throws Exception {
        load("slug=tiny-labels");
        List<String> ids = twoFeatures();
        // import: node ids directly, in Neuronpedia's clerps form
        browser.js("window.viewer.labelsDialog.importText(arguments[0])", TestGraphs.JSON.writeValueAsString(
                List.of(List.of(ids.get(0), "imported one"), List.of(ids.get(1), "imported two"))));
        browser.wait.until(d -> "imported one".equals(state("labels['" + ids.get(0) + "']")));
        browser.find("#share-menu summary").click();
        browser.find("#btn-labels").click();
        browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-labels")).isDisplayed());
        assertThat(browser.driver().findElements(By.cssSelector("#dialog-labels tr[data-id]"))).hasSize(2);
        // edit one in the list
        WebElement edit = browser.find("#dialog-labels tr[data-id='" + ids.get(1) + "'] .label-edit");
        edit.sendKeys(Keys.chord(Keys.CONTROL, "a"), "edited two", Keys.ENTER);
        browser.wait.until(d -> "edited two".equals(state("labels['" + ids.get(1) + "']")));
        // export: the same pairs
        browser.find("#labels-export").click();
        browser.wait.until(d -> browser.js("return window.viewer.lastDownload") != null);
        JsonNode exported = TestGraphs.JSON.readTree((String) browser.js("return window.viewer.lastDownload.text"));
        assertThat(exported.toString()).contains(ids.get(0), "imported one", "edited two");
        assertThat(browser.js("return window.viewer.lastDownload.name")).isEqualTo("tiny-labels-labels.json");
        // delete one
        browser.find("#dialog-labels tr[data-id='" + ids.get(0) + "'] button").click();
        browser.wait.until(d -> state("labels['" + ids.get(0) + "']") == null);
        browser.find("#dialog-labels .close").click();
        waitSaved();

        // saved subgraphs: save two, rename one, delete the other; the change is saved
        browser.clickNode(ids.get(0), Keys.CONTROL);
        browser.wait.until(d -> ((List<?>) state("pinnedIds")).size() == 1);
        browser.find("#subgraph-menu summary").click();
        for (String name : List.of("first", "second")) {
            WebElement field = browser.find("#subgraph-name");
            field.sendKeys(name, Keys.ENTER);
            browser.wait.until(d -> d.findElements(By.cssSelector("#subgraph-list .sg-saved")).size()
                    == (name.equals("first") ? 1 : 2));
        }
        browser.find("#subgraph-list .sg-saved:nth-child(1) .sg-rename").click();
        WebElement rename = browser.find("#subgraph-list .sg-rename-input");
        rename.sendKeys(Keys.chord(Keys.CONTROL, "a"), "renamed", Keys.ENTER);
        browser.wait.until(d -> browser.find("#subgraph-list .sg-saved:nth-child(1) .sg-open").getText()
                .startsWith("renamed"));
        browser.find("#subgraph-list .sg-saved:nth-child(2) .sg-delete").click();
        browser.wait.until(d -> d.findElements(By.cssSelector("#subgraph-list .sg-saved")).size() == 1);
        waitSaved();
        JsonNode saved = Client.body(new Client(server.url()).get("/api/graphs/tiny-labels/subgraphs"));
        assertThat(saved.get("subgraphs")).singleElement().satisfies(sg ->
                assertThat(sg.get("name").asText()).isEqualTo("renamed"));
        JsonNode annotations = Client.body(new Client(server.url()).get("/api/graphs/tiny-labels/annotations"));
        assertThat(annotations.get("labels").get(ids.get(1)).asText()).isEqualTo("edited two");
        assertThat(annotations.get("labels").has(ids.get(0))).isFalse();
    }

    @Test
    void aPageLoadLogsNoConsoleError() {
        browser.consoleEntries(); // drain what earlier tests logged
        load("slug=tiny");
        browser.wait.until(d -> !d.findElements(By.cssSelector("#pane-graph canvas")).isEmpty());
        browser.wait.until(d -> "complete".equals(browser.js("return document.readyState")));
        // The browser fetches the icon on its own schedule, so check deterministically that both places it may ask
        // answer with an image (the console error was a 404 for /favicon.ico), then that nothing was logged so far.
        assertThat(browser.js("return document.querySelector('link[rel=icon]').href")).asString()
                .endsWith("/ui/favicon.svg");
        for (String icon : new String[] {"/ui/favicon.svg", "/favicon.ico"}) {
            Object answer = browser.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                    + "fetch(arguments[0]).then(r => done(r.status + ' ' + r.headers.get('content-type')),"
                    + " e => done(String(e)));", icon);
            assertThat(answer).as(icon).asString().startsWith("200 image/");
        }
        assertThat(browser.consoleErrors()).as("console errors of a page load (e.g. a 404 for /favicon.ico)")
                .isEmpty();
    }

    @Test
    @SuppressWarnings("unchecked")
    void tokensTheChatTemplateWroteAreDimmedWithATooltip() {
        load("slug=tiny-chat");
        assertThat((List<Object>) browser.js("return [...window.viewer.state.model.templatePositions]"))
                .containsExactly(0L);
        WebElement canvas = browser.find("#pane-graph canvas");
        WebElement tip = browser.find("#pane-graph .tooltip");
        Map<String, Number> p = (Map<String, Number>) browser.js(
                "return window.viewer.graphPane.tokenScreenPosition(0)");
        assertThat(p).as("position 0 is drawn").isNotNull();
        new Actions(browser.driver()).moveToElement(canvas,
                (int) Math.round(p.get("x").doubleValue() - canvas.getSize().getWidth() / 2.0),
                (int) Math.round(p.get("y").doubleValue() - canvas.getSize().getHeight() / 2.0)).perform();
        browser.wait.until(d -> tip.isDisplayed());
        assertThat(tip.getText()).contains("written by the chat template");
        // a token of the user's: no such tooltip
        Map<String, Number> q = (Map<String, Number>) browser.js(
                "const m = window.viewer.state.model; const p = Math.max(...m.nodes.map(n => n.pos));"
                        + "return window.viewer.graphPane.tokenScreenPosition(p)");
        new Actions(browser.driver()).moveToElement(canvas,
                (int) Math.round(q.get("x").doubleValue() - canvas.getSize().getWidth() / 2.0),
                (int) Math.round(q.get("y").doubleValue() - canvas.getSize().getHeight() / 2.0)).perform();
        browser.wait.until(d -> !tip.isDisplayed());
        // the page of a model without a chat template offers no chat
        browser.find("#btn-new").click();
        assertThat(browser.driver().findElements(By.id("new-chat"))).isEmpty();
    }

    @Test
    void createsAGraphFromThePage() {
        load("slug=tiny");
        browser.find("#btn-new").click();
        // the automatic slug keeps the distinctive end of a long prompt
        WebElement prompt = browser.find("#dialog-new textarea[name=prompt]");
        prompt.sendKeys("Fact: the capital of the state containing Miami is");
        assertThat(browser.find("#dialog-new input[name=slug]").getAttribute("value"))
                .isEqualTo("fact-the-capital-of-the-state-containing-miami-is");
        prompt.sendKeys(" not Dallas, Austin or Houston, but Tallahassee");
        assertThat(browser.find("#dialog-new input[name=slug]").getAttribute("value")).hasSizeLessThanOrEqualTo(60)
                .startsWith("fact-").endsWith("houston-but-tallahassee");
        prompt.clear();
        prompt.sendKeys("the cat sat on the mat");
        WebElement slug = browser.find("#dialog-new input[name=slug]");
        slug.clear();
        slug.sendKeys("from-page");
        // explain one token (by id) with at most 40 features
        browser.find("#dialog-new input[name=targets]").sendKeys("#5");
        WebElement maxFeatures = browser.find("#dialog-new input[name=maxFeatureNodes]");
        maxFeatures.clear();
        maxFeatures.sendKeys("40");
        browser.find("#create-graph").click();
        // the dialog follows the job's events, then closes and opens the new graph
        browser.wait.until(d -> "from-page".equals(state("slug")) && "true".equals(browser.js("return document.body.dataset.ready")));
        browser.wait.until(d -> browser.find("#message").getText().startsWith("Created"));
        assertThat(browser.find("#message").getText()).contains("from-page", "nodes", "links");
        JsonNode made;
        try {
            made = TestGraphs.JSON.readTree(tmp.resolve("graphs/from-page.json").toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<Integer> logitTokens = new ArrayList<>();
        int featureCount = 0;
        for (JsonNode n : made.get("nodes")) {
            if (n.get("feature_type").asText().equals("logit")) {
                logitTokens.add(n.get("feature").asInt());
            }
            featureCount += n.get("feature_type").asText().contains("transcoder") ? 1 : 0;
        }
        assertThat(logitTokens).containsExactly(5);
        assertThat(featureCount).isLessThanOrEqualTo(40);
        browser.screenshot("page-new-graph", null);
        assertThat(browser.find("#graph-select").getAttribute("value")).isEqualTo("from-page");

        // the same name again: refused (409) unless "overwrite" is ticked
        browser.find("#btn-new").click();
        browser.find("#dialog-new textarea[name=prompt]").sendKeys("the cat sat on the rug");
        WebElement again = browser.find("#dialog-new input[name=slug]");
        again.clear();
        again.sendKeys("from-page");
        browser.find("#create-graph").click();
        browser.wait.until(d -> browser.find("#dialog-new .job-log").getText().contains("already exists"));
        assertThat(browser.find("#dialog-new .job-log").getText()).contains("overwrite");
        browser.find("#dialog-new input[name=overwrite]").click();
        browser.find("#create-graph").click();
        browser.wait.until(d -> browser.find("#message").getText().startsWith("Created"));
        assertThat(state("slug")).isEqualTo("from-page");
    }

    // ---- issue 17 ----------------------------------------------------------------------------------------------

    /** Each box's (or weight label's) rectangle on screen: [left, top, right, bottom]. */
    @SuppressWarnings("unchecked")
    private List<List<Number>> rects(String css) {
        return (List<List<Number>>) browser.js("return [...document.querySelectorAll(arguments[0])].map(e => {"
                + " const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })", css);
    }

    private static void assertNoOverlap(List<List<Number>> rects, String what) {
        for (int i = 0; i < rects.size(); i++) {
            for (int j = i + 1; j < rects.size(); j++) {
                List<Number> a = rects.get(i);
                List<Number> b = rects.get(j);
                boolean overlap = a.get(0).doubleValue() < b.get(2).doubleValue() - 0.5
                        && b.get(0).doubleValue() < a.get(2).doubleValue() - 0.5
                        && a.get(1).doubleValue() < b.get(3).doubleValue() - 0.5
                        && b.get(1).doubleValue() < a.get(3).doubleValue() - 0.5;
                assertThat(overlap).as("%s %d %s overlaps %s %d %s", what, i, a, what, j, b).isFalse();
            }
        }
    }

    private void shiftClickBox(String key) {
        WebElement box = browser.find("#pane-subgraph .sg-box[data-key='" + key + "']"); // found afresh: each click redraws
        browser.js("arguments[0].scrollIntoView({block: 'nearest', inline: 'nearest'})", box);
        new Actions(browser.driver()).keyDown(Keys.SHIFT).click(box).keyUp(Keys.SHIFT).perform();
    }

    @Test
    @SuppressWarnings("unchecked")
    void subgraphBoxesNeverOverlap() {
        load("slug=tiny-layout");
        // ten features, five of them at the token with the most features
        List<String> ten = (List<String>) browser.js("const m = window.viewer.state.model;"
                + "const f = m.nodes.filter(n => n.kind === 'feature').sort((a, b) => a.influence - b.influence);"
                + "const byPos = new Map(); f.forEach(n => byPos.set(n.pos, [...(byPos.get(n.pos) || []), n]));"
                + "const crowded = [...byPos.values()].sort((a, b) => b.length - a.length)[0];"
                + "const out = crowded.slice(0, 5).map(n => n.id);"
                + "for (const n of f) { if (out.length >= 10) break; if (!out.includes(n.id)) out.push(n.id); }"
                + "return out;");
        assertThat(ten).hasSize(10);
        browser.js("window.viewer.update({pinnedIds: arguments[0]}, 'annotations')", ten);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box")).size() == 10);
        browser.screenshot("pane-subgraph-ten", browser.find("#pane-subgraph"));
        assertNoOverlap(rects("#pane-subgraph .sg-box"), "box");
        assertNoOverlap(rects("#pane-subgraph text.sg-weight"), "weight label");
        // boxes of one token stand in a column (or adjacent columns when one would not fit), higher layers above
        List<Map<String, Number>> column = (List<Map<String, Number>>) browser.js("const m = window.viewer.state.model;"
                + "return arguments[0].map(id => { const r = document.querySelector(`#pane-subgraph .sg-box[data-key=\"${id}\"]`)"
                + ".getBoundingClientRect(); return {left: r.left, top: r.top, row: m.byId.get(id).row}; })", ten.subList(0, 5));
        for (Map<String, Number> b : column) {
            for (Map<String, Number> c : column) {
                if (Math.abs(b.get("left").doubleValue() - c.get("left").doubleValue()) < 1
                        && b.get("row").doubleValue() > c.get("row").doubleValue()) {
                    assertThat(b.get("top").doubleValue()).isLessThan(c.get("top").doubleValue());
                }
            }
        }

        // shift-click five boxes: five are selected; Group makes one supernode of them
        for (String id : ten.subList(0, 5)) {
            shiftClickBox(id);
        }
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box.selected")).size() == 5);
        assertThat((List<Object>) browser.js("return [...window.viewer.state.subgraphSelection]"))
                .containsExactlyInAnyOrderElementsOf(new ArrayList<>(ten.subList(0, 5)));
        browser.find("#btn-group").click();
        WebElement edit = browser.wait.until(d -> d.findElement(By.cssSelector("#pane-subgraph .sg-edit")));
        edit.sendKeys(Keys.chord(Keys.CONTROL, "a"), "five", Keys.ENTER);
        browser.wait.until(d -> d.findElements(By.cssSelector("#pane-subgraph .sg-box.group")).size() == 1);
        assertThat(browser.find("#pane-subgraph .sg-box.group").getAttribute("data-node-ids").split(","))
                .containsExactlyInAnyOrderElementsOf(ten.subList(0, 5));
        assertThat(browser.driver().findElements(By.cssSelector("#pane-subgraph .sg-box"))).hasSize(6);
        assertNoOverlap(rects("#pane-subgraph .sg-box"), "box");
        assertNoOverlap(rects("#pane-subgraph text.sg-weight"), "weight label");

        // grid snap: boxes on a grid; a box dropped on another takes its cell and pushes it down
        browser.find("#sg-snap").click();
        browser.wait.until(d -> Boolean.TRUE.equals(state("sgSnap")));
        assertNoOverlap(rects("#pane-subgraph .sg-box"), "snapped box");
        WebElement from = browser.find("#pane-subgraph .sg-box[data-key='" + ten.get(5) + "']");
        WebElement onto = browser.find("#pane-subgraph .sg-box[data-key='" + ten.get(6) + "']");
        new Actions(browser.driver()).clickAndHold(from).moveByOffset(5, 5).moveToElement(onto).release().perform();
        browser.wait.until(d -> ((Number) browser.js("return Object.keys(window.viewer.state.sgLayout).length")).intValue() == 6);
        assertNoOverlap(rects("#pane-subgraph .sg-box"), "box after a drop");
        assertNoOverlap(rects("#pane-subgraph text.sg-weight"), "weight label after a drop");
        browser.screenshot("pane-subgraph-snapped", browser.find("#pane-subgraph"));
        waitSaved();
        // Arrange forgets the dragged places
        browser.find("#btn-arrange").click();
        browser.wait.until(d -> ((Number) browser.js("return Object.keys(window.viewer.state.sgLayout).length")).intValue() == 0);
        assertNoOverlap(rects("#pane-subgraph .sg-box"), "arranged box");
    }

    @Test
    void steeringRefusesEmptyAndNonFiniteValues() {
        load("slug=tiny-steer");
        String feature = (String) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence)[0].id");
        browser.js("window.viewer.update({pinnedIds: [arguments[0]]}, 'annotations')", feature);
        browser.find("#btn-steer").click();
        browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-steer")).isDisplayed());
        WebElement value = browser.find("#dialog-steer input[aria-label=Value]");
        for (String bad : new String[] {"", "1e309"}) {
            value.clear();
            value.sendKeys(bad);
            browser.find("#steer-run").click();
            WebElement error = browser.wait.until(d -> d.findElement(By.cssSelector("#dialog-steer .field-error")));
            browser.wait.until(d -> error.isDisplayed());
            assertThat(error.getText()).as("message for %s", bad).isNotBlank();
            assertThat(value.getAttribute("aria-invalid")).isEqualTo("true");
            assertThat(browser.driver().findElements(By.cssSelector("#dialog-steer .steer-col"))).as(bad).isEmpty();
            assertThat(browser.find("#dialog-steer .steer-results").getText()).contains("Not run");
        }
        browser.screenshot("panel-steer-invalid", browser.find("#dialog-steer"));
        value.clear();
        value.sendKeys("0");
        browser.find("#steer-run").click();
        browser.wait.until(d -> d.findElements(By.cssSelector("#dialog-steer .steer-col")).size() == 2);
        assertThat(browser.find("#dialog-steer .field-error").isDisplayed()).isFalse();
        browser.find("#dialog-steer .close").click();

        // the server refuses them too (it already did): 1e309 parses to infinity
        Object answer = browser.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "fetch('/api/graphs/tiny-steer/steer', {method: 'POST', headers: {'Content-Type': 'application/json'},"
                + " body: '{\"interventions\": [{\"nodeId\": \"' + arguments[0] + '\", \"mode\": \"scale\", \"value\": 1e309}]}'})"
                + ".then(r => r.text().then(t => done(r.status + ' ' + t)), e => done(String(e)));", feature);
        assertThat(answer).asString().startsWith("400 ").contains("finite");
    }

    @Test
    @SuppressWarnings("unchecked")
    void anEditJustBeforeSwitchingGraphsIsSavedToItsGraph() {
        load("slug=tiny-a");
        String feature = (String) browser.js("return window.viewer.state.model.nodes.filter(n => n.kind === 'feature')"
                + ".sort((a, b) => a.influence - b.influence)[0].id");
        browser.js("window.viewer.update({clickedId: arguments[0]}, 'select')", feature);
        WebElement label = browser.wait.until(d -> d.findElement(By.cssSelector("#pane-feature .label-input")));
        label.clear();
        label.sendKeys("made just before switching", Keys.ENTER);
        new Select(browser.find("#graph-select")).selectByValue("tiny"); // well inside the autosave's delay
        browser.wait.until(d -> "tiny".equals(browser.js("return window.viewer.state.slug === 'tiny'"
                + " && window.viewer.state.view.metadata.slug")));
        Map<String, Object> a = annotations("tiny-a");
        assertThat((Map<String, Object>) a.get("labels")).containsEntry(feature, "made just before switching");
        try {
            Thread.sleep(1500); // past the autosave delay: nothing lands on the other graph later either
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertThat(((Map<String, Object>) annotations("tiny").get("labels")).values())
                .doesNotContain("made just before switching");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> annotations(String slug) {
        return (Map<String, Object>) browser.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "fetch('/api/graphs/' + arguments[0] + '/annotations').then(r => r.json()).then(done, e => done(null));",
                slug);
    }

    @Test
    @SuppressWarnings("unchecked")
    void clerpsFromTheUrlAndTheFileLabelNodes() throws Exception {
        load("slug=tiny-clerps");
        // two features outside the first (one-node) view: one by feature number [REF], one by featureId [NP]
        // (and neither shares its feature number with the node the file labels)
        List<Map<String, Object>> f = (List<Map<String, Object>>) browser.js("const m = window.viewer.state.model;"
                + "const fileFeature = m.byId.get(arguments[0]).feature;"
                + "return m.nodes.filter(n => n.kind === 'feature' && n.feature !== fileFeature)"
                + ".sort((a, b) => a.influence - b.influence).slice(1, 3)"
                + ".map(n => ({id: n.id, feature: String(n.feature), fid: `${n.raw.layer}_${n.feature}_${n.pos}`}))",
                fileClerpNode);
        String clerps = TestGraphs.JSON.writeValueAsString(List.of(List.of(f.get(0).get("feature"), "by number"),
                List.of(f.get(1).get("fid"), "by featureId")));
        load("slug=tiny-clerps&clerps=" + java.net.URLEncoder.encode(clerps, java.nio.charset.StandardCharsets.UTF_8));
        browser.wait.until(d -> "by number".equals(state("labels['" + f.get(0).get("id") + "']")));
        assertThat(state("labels['" + f.get(1).get("id") + "']")).isEqualTo("by featureId");
        assertThat(state("labels['" + fileClerpNode + "']")).isEqualTo("from the file");
        // shown where labels show
        browser.js("window.viewer.update({clickedId: arguments[0]}, 'select')", f.get(1).get("id"));
        browser.wait.until(d -> "by featureId".equals(browser.find("#pane-feature .label-input").getAttribute("value")));
        // the URL keeps them until they are saved with the annotations
        assertThat(browser.driver().getCurrentUrl()).contains("clerps=");
    }

    @Test
    void anUnknownSlugSaysSoAndOffersTheGraphs() {
        load("slug=no-such-graph");
        WebElement missing = browser.find("#missing");
        assertThat(missing.isDisplayed()).isTrue();
        assertThat(missing.getText()).contains("no-such-graph");
        assertThat(browser.find("#graph-select").getAttribute("value")).isEmpty();
        assertThat(new Select(browser.find("#graph-select")).getFirstSelectedOption().getText()).contains("no-such-graph");
        browser.screenshot("page-missing-graph", null);
        browser.find("#missing-list button[data-slug='tiny-url']").click();
        browser.wait.until(d -> "tiny-url".equals(state("slug")) && !d.findElements(By.cssSelector("#pane-graph canvas")).isEmpty());
        assertThat(missing.isDisplayed()).isFalse();
        assertThat(browser.find("#graph-select").getAttribute("value")).isEqualTo("tiny-url");
        assertThat(browser.driver().getCurrentUrl()).contains("slug=tiny-url");
    }

    @Test
    void theUrlCarriesOnlyDefinedValuesAndTheLinkType() {
        load("slug=tiny-url");
        String url = browser.driver().getCurrentUrl();
        // the graph file's qParams.linkType ("both" from our exporter) is the starting value
        assertThat(url).doesNotContain("undefined").doesNotContain("=null").contains("linkType=" + state("linkType"));
        new Select(browser.find("#link-type")).selectByValue("output");
        browser.wait.until(d -> d.getCurrentUrl().contains("linkType=output"));
        String query = browser.driver().getCurrentUrl().split("\\?", 2)[1];
        load(query);
        assertThat(browser.find("#link-type").getAttribute("value")).isEqualTo("output");
        assertThat(state("linkType")).isEqualTo("output");
        assertThat(browser.driver().getCurrentUrl()).doesNotContain("undefined");
    }
}
