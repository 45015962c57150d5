package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

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
    private Browser browser;

    @BeforeAll
    void start() throws Exception {
        browser = Browser.open();
        Path graphs = tmp.resolve("graphs");
        TinyModel.graph(graphs, "tiny");
        JsonNode graph = TestGraphs.JSON.readTree(graphs.resolve("tiny.json").toFile());
        TestGraphs.writePackedFeatures(tmp.resolve("features"), graph);
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
        browser.driver().get(server.url() + "?" + query);
        browser.wait.until(d -> "true".equals(browser.js("return document.body.dataset.ready")));
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
        browser.find("#steer-run").click();
        browser.wait.until(d -> d.findElements(By.cssSelector("#dialog-steer .steer-col")).size() == 2);
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
    void createsAGraphFromThePage() {
        load("slug=tiny");
        browser.find("#btn-new").click();
        browser.find("#dialog-new textarea[name=prompt]").sendKeys("the cat sat on the mat");
        WebElement slug = browser.find("#dialog-new input[name=slug]");
        slug.clear();
        slug.sendKeys("from-page");
        browser.find("#create-graph").click();
        // the dialog follows the job's events, then closes and opens the new graph
        browser.wait.until(d -> "from-page".equals(state("slug")) && "true".equals(browser.js("return document.body.dataset.ready")));
        browser.wait.until(d -> browser.find("#message").getText().startsWith("Created"));
        assertThat(browser.find("#message").getText()).contains("from-page", "nodes", "links");
        browser.screenshot("page-new-graph", null);
        assertThat(browser.find("#graph-select").getAttribute("value")).isEqualTo("from-page");
    }
}
