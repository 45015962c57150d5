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
 * Attention in the circuit (issue 20) in Chromium: the connections pane's heat maps of a node's inputs over heads and
 * of one selected link (cells, "other heads", bypass, dimmed layers, exact numbers in the titles), and a graph without
 * head loadings, which shows a note and nothing else new.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeadLoadingsBrowserTest {

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
        TestGraphs.write(graphs, TestGraphs.headsGraph(TestGraphs.HEADS));
        // the selected feature's details load (both graphs have the same features)
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

    private static final String MAP = "#pane-connections table.heads-map";

    private WebElement cell(int layer, int head) {
        return browser.find(MAP + " td.hm-cell[data-layer='" + layer + "'][data-head='" + head + "']");
    }

    private String value(String css) {
        return browser.find(MAP + " " + css).getAttribute("data-value");
    }

    private String scope() {
        return browser.find(MAP).getAttribute("data-scope");
    }

    private WebElement headsButton(String column, String otherId) {
        // the Inputs column comes first, then the Outputs column
        int index = "inputs".equals(column) ? 0 : 1;
        WebElement col = browser.driver().findElements(By.cssSelector("#pane-connections .conn-col")).get(index);
        return col.findElement(By.cssSelector(".conn-row[data-node-id='" + otherId + "'] .conn-heads"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNodeShowsTheHeadsOfItsInputsAndALinkItsOwnLoadings() {
        load("slug=" + TestGraphs.HEADS + "&clickedId=1_40_3");
        // the node: its inputs' loadings summed per head (0_12_2 and 0_7_3 carry loadings, E_12_3 none)
        assertThat(scope()).isEqualTo("node");
        assertThat(browser.find("#pane-connections .heads-title").getText()).contains("2 of 3 input links");
        assertThat(browser.driver().findElements(By.cssSelector(MAP + " tbody tr"))).hasSize(2);
        assertThat(browser.driver().findElements(By.cssSelector(MAP + " tr[data-layer='0'] td.hm-cell"))).hasSize(4);
        assertThat(cell(0, 1).getAttribute("data-value")).isEqualTo("0.4");
        assertThat(cell(0, 1).getAttribute("title")).isEqualTo("L0.H1: 0.4 (#1 by magnitude)");
        assertThat(cell(0, 3).getAttribute("data-value")).isEqualTo("-0.3");
        assertThat(cell(0, 2).getAttribute("data-value")).isEqualTo("0.1");
        assertThat(cell(1, 0).getAttribute("data-value")).isEqualTo("0.3");
        assertThat(cell(1, 2).getAttribute("data-value")).isEqualTo("0.2");
        // no input stores L0.H0: blank, and its title says so
        assertThat(cell(0, 0).getAttribute("class")).contains("unknown");
        assertThat(cell(0, 0).getAttribute("data-value")).isNull();
        assertThat(cell(0, 0).getAttribute("title")).startsWith("L0.H0: not stored");
        assertThat(cell(1, 1).getAttribute("class")).contains("unknown");
        // other heads: Σ over links of weight − bypass − stored; bypass summed
        assertThat(value("td.hm-other[data-layer='0']")).isEqualTo("0.15");
        assertThat(value("td.hm-other[data-layer='1']")).isEqualTo("0.3");
        assertThat(value("td.hm-bypass[data-layer='0']")).isEqualTo("0.95");
        assertThat(value("td.hm-bypass[data-layer='1']")).isEqualTo("0.5");
        // positive cells green, negative purple (as links are drawn)
        assertThat(greenerThanPurple(cell(0, 1))).isTrue();
        assertThat(greenerThanPurple(cell(0, 3))).isFalse();
        List<String> top = browser.driver().findElements(By.cssSelector("#pane-connections ol.heads-top li")).stream()
                .map(WebElement::getText).map(t -> t.replaceAll("\\s+", " ")).toList();
        assertThat(top).containsExactly("L0.H1 +0.400", "L0.H3 -0.300", "L1.H0 +0.300", "L1.H2 +0.200",
                "L0.H2 +0.100");
        browser.screenshot("head-loadings-node", browser.find("#pane-connections"));

        // a link: its own top-K loadings, the rest of each layer as "other heads", its bypass
        assertThat(headsButton("inputs", "E_12_3").isEnabled()).as("a link without loadings").isFalse();
        headsButton("inputs", "0_12_2").click();
        browser.wait.until(d -> "link".equals(scope()));
        assertThat((Map<String, Object>) browser.js("return window.viewer.state.selectedLink"))
                .isEqualTo(Map.of("source", "0_12_2", "target", "1_40_3"));
        assertThat(browser.find("#pane-connections .heads-title").getText()).contains("0_12_2 → 1_40_3",
                "weight +2.000");
        assertThat(cell(0, 1).getAttribute("title")).isEqualTo("L0.H1: 0.8 (#1 by magnitude)");
        assertThat(cell(0, 3).getAttribute("data-value")).isEqualTo("-0.3");
        assertThat(cell(1, 0).getAttribute("data-value")).isEqualTo("0.5");
        assertThat(cell(1, 2).getAttribute("title")).startsWith("L1.H2: 0.2");
        assertThat(cell(0, 0).getAttribute("class")).contains("unknown");
        assertThat(value("td.hm-other[data-layer='0']")).isEqualTo("0.25");
        assertThat(browser.find(MAP + " td.hm-other[data-layer='1']").getAttribute("title"))
                .isEqualTo("L1 other heads: 0.3");
        assertThat(value("td.hm-bypass[data-layer='0']")).isEqualTo("1.25");
        assertThat(browser.driver().findElements(By.cssSelector(MAP + " tr.dim"))).isEmpty();
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections ol.heads-top"))).isEmpty();
        assertThat(browser.find("#pane-connections .conn-row.link-selected").getAttribute("data-node-id"))
                .isEqualTo("0_12_2");
        browser.screenshot("head-loadings-link", browser.find("#pane-connections"));

        // the link to the logit does not pass layer 0's attention: that row is dimmed
        headsButton("outputs", "3_20_3").click();
        browser.wait.until(d -> browser.find("#pane-connections .heads-title").getText().contains("1_40_3 → 3_20_3"));
        assertThat(browser.find(MAP + " tr[data-layer='0']").getAttribute("class")).contains("dim");
        assertThat(browser.find(MAP + " tr[data-layer='1']").getAttribute("class")).doesNotContain("dim");
        assertThat(cell(1, 1).getAttribute("data-value")).isEqualTo("2");
        assertThat(value("td.hm-other[data-layer='1']")).isEqualTo("0.25");
        assertThat(value("td.hm-other[data-layer='0']")).isEqualTo("0");

        // back to the node, then another node: the link is no longer selected
        browser.find("#pane-connections .heads-back").click();
        browser.wait.until(d -> "node".equals(scope()));
        headsButton("inputs", "0_7_3").click();
        browser.wait.until(d -> "link".equals(scope()));
        browser.find("#pane-connections .conn-col .conn-row[data-node-id='0_12_2']").click();
        browser.wait.until(d -> "0_12_2".equals(browser.js("return window.viewer.state.clickedId")));
        assertThat(browser.js("return window.viewer.state.selectedLink")).isNull();
        assertThat(browser.find("#pane-connections .heads-empty").getText())
                .isEqualTo("No input link of this node carries head loadings.");
        assertThat(browser.consoleErrors()).isEmpty();
    }

    /** Whether the cell's background has more green than red (PRGn: green positive, purple negative). */
    private boolean greenerThanPurple(WebElement cell) {
        String rgb = cell.getCssValue("background-color").replaceAll("[^0-9,]", "");
        String[] c = rgb.split(",");
        return Integer.parseInt(c[1]) > Integer.parseInt(c[0]);
    }

    @Test
    void aGraphWithoutHeadLoadingsShowsANoteAndNoMap() {
        load("slug=" + TestGraphs.SMALL + "&clickedId=1_40_3");
        assertThat(browser.find("#pane-connections .heads-none").getText())
                .contains("No head loadings in this graph", "--head-loadings");
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections table.heads-map"))).isEmpty();
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections .conn-heads"))).isEmpty();
        assertThat(browser.driver().findElements(By.cssSelector("#pane-connections .conn-row")).size()).isEqualTo(5);
        assertThat(browser.consoleErrors()).isEmpty();
    }
}
