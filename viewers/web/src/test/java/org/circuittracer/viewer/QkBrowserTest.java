package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * QK attribution in the viewer (issue 20) in Chromium: a selected link's "Attention (QK)" section (per head its score,
 * pairwise terms with node labels, marginals, constant), its heads outlined in the link's heat map, a node label that
 * selects its node, a node the view lacks shown by id; and a graph with QK attribution but no head loadings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QkBrowserTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Browser browser;

    @BeforeAll
    void start() {
        browser = Browser.open();
        Path graphs = tmp.resolve("graphs");
        com.fasterxml.jackson.databind.node.ObjectNode small = TestGraphs.smallGraph(TestGraphs.SMALL);
        TestGraphs.write(graphs, small);
        TestGraphs.write(graphs, TestGraphs.qkGraph(TestGraphs.QK, true));
        TestGraphs.write(graphs, TestGraphs.qkGraph("small-qk-only", false));
        TestGraphs.writePackedFeatures(tmp.resolve("features"), small);
        server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(tmp.resolve("features")).withPort(0));
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

    private static final String QK = "#pane-connections .qk";

    private WebElement inputButton(String otherId) {
        WebElement col = browser.driver().findElements(By.cssSelector("#pane-connections .conn-col")).get(0);
        return col.findElement(By.cssSelector(".conn-row[data-node-id='" + otherId + "'] .conn-heads"));
    }

    private WebElement entry(int layer, int head) {
        return browser.find(QK + " .qk-entry[data-layer='" + layer + "'][data-head='" + head + "']");
    }

    private static List<String> texts(WebElement root, String css) {
        return root.findElements(By.cssSelector(css)).stream().map(WebElement::getText)
                .map(t -> t.replaceAll("\\s+", " ").trim()).toList();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aSelectedLinkShowsWhyItsHeadsAttended() {
        load("slug=" + TestGraphs.QK + "&clickedId=1_40_3");
        // the node's view: no QK section; the link with QK attribution has its ▦ marked
        assertThat(browser.driver().findElements(By.cssSelector(QK))).isEmpty();
        assertThat(inputButton("0_12_2").getAttribute("class")).contains("has-qk");
        assertThat(inputButton("0_12_2").getAttribute("title")).contains("QK attribution");
        assertThat(inputButton("0_7_3").getAttribute("class")).doesNotContain("has-qk");

        inputButton("0_12_2").click();
        browser.wait.until(d -> !d.findElements(By.cssSelector(QK)).isEmpty());
        assertThat((Map<String, Object>) browser.js("return window.viewer.state.selectedLink"))
                .isEqualTo(Map.of("source", "0_12_2", "target", "1_40_3"));
        assertThat(browser.find(QK + " .qk-title").getText()).isEqualTo("Attention (QK)");
        assertThat(browser.find(QK + " .qk-note").getText()).contains("3 of each kind");
        assertThat(browser.driver().findElements(By.cssSelector(QK + " .qk-entry"))).hasSize(2);

        // L1.H0: its header, pairwise terms by |value| with node labels, the absent node by its id
        WebElement a = entry(1, 0);
        assertThat(a.findElement(By.cssSelector(".qk-head")).getText().replaceAll("\\s+", " "))
                .isEqualTo("L1.H0 query 3 “ sat” → key 2 “ cat” score 3.21");
        assertThat(a.findElements(By.cssSelector(".qk-logit"))).as("logit = score: not repeated").isEmpty();
        List<WebElement> pairs = a.findElements(By.cssSelector("table.qk-pairs tbody tr"));
        assertThat(pairs).hasSize(3);
        assertThat(texts(pairs.get(0), "td")).containsExactly("L0/7", "→", "Emb: “ cat”", "+1.020", "");
        assertThat(pairs.get(0).findElement(By.cssSelector(".qk-value")).getAttribute("data-value")).isEqualTo("1.02");
        assertThat(pairs.get(0).findElement(By.cssSelector(".qk-value")).getAttribute("class")).contains("pos");
        assertThat(texts(pairs.get(1), "td")).containsExactly("Emb: “ sat”", "→", "L0/12", "-0.310", "");
        assertThat(pairs.get(1).findElement(By.cssSelector(".qk-value")).getAttribute("class")).contains("neg");
        WebElement missing = pairs.get(2).findElement(By.cssSelector(".qk-q .qk-node"));
        assertThat(missing.getText()).isEqualTo("0_99_3");
        assertThat(missing.getAttribute("class")).contains("missing");
        assertThat(missing.getTagName()).isEqualTo("span");
        // the bars: the largest term fills its cell
        double full = ((Number) browser.js("return arguments[0].querySelector('.qk-bar span').getBoundingClientRect()"
                + ".width / arguments[0].querySelector('.qk-bar').getBoundingClientRect().width", pairs.get(0)))
                .doubleValue();
        assertThat(full).isGreaterThan(0.8);

        // the marginals and the constant
        assertThat(texts(a, "table.qk-qm tbody tr")).containsExactly("L0/7 +0.700");
        assertThat(texts(a, "table.qk-km tbody tr")).containsExactly("Emb: “ cat” +0.500", "L0/12 -0.125");
        assertThat(a.findElement(By.cssSelector(".qk-constant .qk-value")).getAttribute("data-value")).isEqualTo("0.4");
        assertThat(a.findElement(By.cssSelector(".qk-constant")).getText()).contains("constant", "+0.400",
                "not listed +0.775"); // 3.21 − (1.02 − 0.31 + 0.25 + 0.7 + 0.5 − 0.125 + 0.4)

        // L0.H2: a soft-capped logit, empty marginal lists
        WebElement b = entry(0, 2);
        assertThat(b.findElement(By.cssSelector(".qk-head")).getText()).contains("L0.H2", "score 2.5", "logit 2.25");
        assertThat(texts(b, ".qk-empty")).containsExactly("Query node × key's rest: none listed",
                "Key node × query's rest: none listed");

        // the heat map outlines the heads with QK attribution, also a head not stored for the link
        List<WebElement> outlined = browser.driver().findElements(By.cssSelector(
                "#pane-connections table.heads-map td.hm-qk"));
        assertThat(outlined.stream().map(c -> c.getAttribute("data-layer") + "." + c.getAttribute("data-head")))
                .containsExactlyInAnyOrder("1.0", "0.2");
        WebElement unstored = browser.find("#pane-connections table.heads-map td.hm-qk[data-layer='0']");
        assertThat(unstored.getAttribute("class")).contains("unknown");
        assertThat(browser.find("#pane-connections table.heads-map td[data-layer='1'][data-head='0']")
                .getAttribute("title")).isEqualTo("L1.H0: 0.5 (#2 by magnitude) · QK attribution below (click)");
        unstored.click();
        browser.wait.until(d -> entry(0, 2).getAttribute("class").contains("active"));
        assertThat(entry(1, 0).getAttribute("class")).doesNotContain("active");
        browser.find("#pane-connections table.heads-map td[data-layer='1'][data-head='0']").click();
        browser.wait.until(d -> entry(1, 0).getAttribute("class").contains("active"));
        assertThat(entry(0, 2).getAttribute("class")).doesNotContain("active");
        browser.js("document.querySelector('#pane-connections .pane-body').scrollTop = 0");
        browser.screenshot("qk-link", browser.find("#pane-connections"));

        // a node label selects its node (and, as another node, unselects the link)
        entry(1, 0).findElement(By.cssSelector("table.qk-pairs tbody tr .qk-q button.qk-node")).click();
        browser.wait.until(d -> "0_7_3".equals(browser.js("return window.viewer.state.clickedId")));
        assertThat(browser.js("return window.viewer.state.selectedLink")).isNull();
        assertThat(browser.driver().findElements(By.cssSelector(QK))).isEmpty();
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void aGraphWithQkButNoHeadLoadingsStillShowsIt() {
        load("slug=small-qk-only&clickedId=1_40_3");
        assertThat(browser.find("#pane-connections .heads-none").getText()).contains("QK attribution");
        assertThat(inputButton("0_7_3").isEnabled()).isFalse();
        inputButton("0_12_2").click();
        browser.wait.until(d -> !d.findElements(By.cssSelector(QK)).isEmpty());
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections table.heads-map"))).isEmpty();
        assertThat(entry(1, 0).findElement(By.cssSelector(".qk-head")).getText()).contains("score 3.21");
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void aGraphWithoutQkIsUnchanged() {
        load("slug=" + TestGraphs.SMALL + "&clickedId=1_40_3");
        assertThat(browser.find("#pane-connections .heads-none").getText()).contains("No head loadings in this graph");
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections .conn-heads"))).isEmpty();
        assertThat(browser.driver().findElements(By.cssSelector(QK))).isEmpty();
        assertThat(browser.consoleErrors()).isEmpty();
    }
}
