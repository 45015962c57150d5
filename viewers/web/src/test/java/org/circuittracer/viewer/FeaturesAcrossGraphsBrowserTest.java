package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.viewer.graph.FeaturesAcrossGraphs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/** The cross-graph page in Chromium: the rows of the batch's file, sorting, and a link that opens a graph pinned. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FeaturesAcrossGraphsBrowserTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Browser browser;

    @BeforeAll
    void start() throws Exception {
        browser = Browser.open();
        Path graphs = tmp.resolve("graphs");
        com.fasterxml.jackson.databind.node.ObjectNode small = TestGraphs.smallGraph(TestGraphs.SMALL);
        TestGraphs.write(graphs, small);
        TestGraphs.writePackedFeatures(tmp.resolve("features"), small); // the selected feature's details load
        Files.writeString(graphs.resolve(FeaturesAcrossGraphs.FILE_NAME), FeaturesAcrossGraphsApiTest.SAMPLE,
                StandardCharsets.UTF_8);
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

    private void load(String path) {
        browser.open(server.url().resolve(path).toString());
    }

    private List<String> layers() {
        return browser.driver().findElements(By.cssSelector("#global-table tbody tr")).stream()
                .map(r -> r.getAttribute("data-layer")).toList();
    }

    @Test
    void listsTheFeaturesSortsThemAndOpensAGraphWithTheFeaturePinned() {
        load("/");
        assertThat(browser.find("#link-global").isDisplayed()).as("the graph page links to the view").isTrue();

        load("/global.html");
        assertThat(layers()).containsExactly("1", "0");
        assertThat(browser.find("#global-summary").getText()).contains("2 of 3 features", "across 2 graphs");
        WebElement first = browser.find("#global-table tbody tr");
        assertThat(first.getText()).contains(TestGraphs.SMALL, "other", "0.300");
        browser.find("#global-table th[data-key='layer'] button").click();
        assertThat(layers()).containsExactly("0", "1");
        browser.find("#global-table th[data-key='layer'] button").click();
        assertThat(layers()).containsExactly("1", "0");
        browser.screenshot("features-across-graphs", null);

        browser.find("#global-table tbody tr a.graph-link").click();
        browser.wait.until(d -> "true".equals(browser.js("return document.body.dataset.ready")));
        assertThat(browser.js("return window.viewer.state.slug")).isEqualTo(TestGraphs.SMALL);
        assertThat(browser.js("return window.viewer.state.pinnedIds")).isEqualTo(List.of("1_40_3"));
        assertThat(browser.js("return window.viewer.state.clickedId")).isEqualTo("1_40_3");
        assertThat(browser.consoleErrors()).isEmpty();
    }
}
