package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.circuittracer.viewer.graph.GraphView;
import org.circuittracer.viewer.graph.LoadedGraph;
import org.circuittracer.viewer.graph.ViewRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Head loadings (issue 20) pass through the server: a link's {@code head_loadings} and {@code head_bypass} and
 * {@code metadata.head_loadings} reach the page's view and the downloaded graph as the file has them; malformed entries
 * are left out; graphs without them get no such fields. Likewise a link's QK attribution ({@code qk}, a list of objects)
 * and {@code metadata.qk}: passed through as the file has them, entries that are not objects left out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeadLoadingsApiTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Client client;

    @BeforeAll
    void start() {
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.smallGraph(TestGraphs.SMALL));
        TestGraphs.write(graphs, TestGraphs.headsGraph(TestGraphs.HEADS));
        TestGraphs.write(graphs, TestGraphs.qkGraph(TestGraphs.QK, true));
        server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0));
        client = new Client(server.url());
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private static JsonNode link(JsonNode graph, String source, String target) {
        for (JsonNode l : graph.get("links")) {
            if (l.get("source").asText().equals(source) && l.get("target").asText().equals(target)) {
                return l;
            }
        }
        throw new AssertionError("no link " + source + " -> " + target);
    }

    private static void assertLoadingsOfTheFile(JsonNode graph) {
        assertThat(graph.at("/metadata/head_loadings/layers").asInt()).isEqualTo(2);
        assertThat(graph.at("/metadata/head_loadings/heads").asInt()).isEqualTo(4);
        assertThat(graph.at("/metadata/head_loadings/top_k").asInt()).isEqualTo(2);
        JsonNode l = link(graph, "0_12_2", "1_40_3");
        assertThat(l.get("head_loadings").toString()).isEqualTo("[[0,1,0.8],[0,3,-0.3],[1,0,0.5],[1,2,0.2]]");
        assertThat(l.get("head_bypass").toString()).isEqualTo("[1.25,1.0]");
        assertThat(link(graph, "1_40_3", "3_20_3").get("head_bypass").toString()).isEqualTo("[4.0,1.5]");
        // a link the file stores none for gets none
        JsonNode plain = link(graph, "E_12_3", "1_40_3");
        assertThat(plain.has("head_loadings")).isFalse();
        assertThat(plain.has("head_bypass")).isFalse();
    }

    @Test
    void theViewAndTheDownloadCarryTheLoadings() {
        assertLoadingsOfTheFile(Client.body(client.get("/api/graphs/" + TestGraphs.HEADS + "/view")));
        assertLoadingsOfTheFile(Client.body(client.post("/api/graphs/" + TestGraphs.HEADS + "/export", Map.of())));
        JsonNode sub = Client.body(client.post("/api/graphs/" + TestGraphs.HEADS + "/export", Map.of("subgraph", true,
                "pinnedIds", List.of("0_12_2", "1_40_3"))));
        assertThat(sub.get("links")).hasSize(1);
        assertThat(link(sub, "0_12_2", "1_40_3").get("head_bypass").toString()).isEqualTo("[1.25,1.0]");
    }

    @Test
    void aGraphWithoutLoadingsHasNoneOfTheFields() {
        JsonNode view = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/view"));
        assertThat(view.at("/metadata").has("head_loadings")).isFalse();
        for (JsonNode l : view.get("links")) {
            assertThat(l.has("head_loadings")).isFalse();
            assertThat(l.has("head_bypass")).isFalse();
        }
        LoadedGraph g = LoadedGraph.parse("x", TestGraphs.smallGraph("x"));
        assertThat(g.hasHeadLoadings()).isFalse();
        assertThat(LoadedGraph.parse("y", TestGraphs.headsGraph("y")).hasHeadLoadings()).isTrue();
    }

    @Test
    void malformedEntriesAreLeftOutAndTheRestKept() {
        ObjectNode graph = TestGraphs.headsGraph("odd");
        ObjectNode l = (ObjectNode) link(graph, "0_7_3", "1_40_3");
        ArrayNode loadings = l.putArray("head_loadings");
        loadings.addArray().add(0).add(2).add(0.1);    // kept
        loadings.addArray().add(1.5).add(0).add(0.2);  // fractional layer
        loadings.addArray().add(-1).add(0).add(0.2);   // negative layer
        loadings.addArray().add("0").add(0).add(0.2);  // not a number
        loadings.addArray().add(0).add(1);             // no loading
        loadings.add(7);                               // not an entry
        l.putArray("head_bypass").add(-0.3).add("x");  // not numbers: dropped as a whole
        ObjectNode other = (ObjectNode) link(graph, "0_12_2", "1_40_3");
        other.put("head_loadings", "nonsense");        // not an array: dropped
        JsonNode view = GraphView.compute(LoadedGraph.parse("odd", graph), ViewRequest.defaults(), null);
        JsonNode odd = link(view, "0_7_3", "1_40_3");
        assertThat(odd.get("head_loadings").toString()).isEqualTo("[[0,2,0.1]]");
        assertThat(odd.has("head_bypass")).isFalse();
        JsonNode kept = link(view, "0_12_2", "1_40_3");
        assertThat(kept.has("head_loadings")).isFalse();
        assertThat(kept.get("head_bypass").toString()).isEqualTo("[1.25,1.0]");
        assertThat(link(view, "1_40_3", "3_20_3").get("head_loadings").toString()).isEqualTo("[[1,1,2.0],[1,3,0.25]]");
    }

    private static void assertQkOfTheFile(JsonNode graph) {
        JsonNode file = link(TestGraphs.qkGraph("file", true), "0_12_2", "1_40_3").get("qk");
        assertThat(graph.at("/metadata/qk/top_k").asInt()).isEqualTo(3);
        JsonNode qk = link(graph, "0_12_2", "1_40_3").get("qk");
        assertThat(qk).isEqualTo(file);
        assertThat(qk.at("/0/qk_tracing_results/pair_wise_contributors/0").toString())
                .isEqualTo("[\"0_7_3\",\"E_11_2\",1.02]");
        assertThat(qk.at("/1/logit").asDouble()).isEqualTo(2.25);
        // the link's head loadings are still there; a link without qk gets none
        assertThat(link(graph, "0_12_2", "1_40_3").get("head_bypass").toString()).isEqualTo("[1.25,1.0]");
        assertThat(link(graph, "0_7_3", "1_40_3").has("qk")).isFalse();
    }

    @Test
    void theViewAndTheDownloadCarryTheQkAttribution() {
        assertQkOfTheFile(Client.body(client.get("/api/graphs/" + TestGraphs.QK + "/view")));
        assertQkOfTheFile(Client.body(client.post("/api/graphs/" + TestGraphs.QK + "/export", Map.of())));
        JsonNode sub = Client.body(client.post("/api/graphs/" + TestGraphs.QK + "/export", Map.of("subgraph", true,
                "pinnedIds", List.of("0_12_2", "1_40_3"))));
        assertThat(link(sub, "0_12_2", "1_40_3").get("qk")).hasSize(2);
        assertThat(LoadedGraph.parse("q", TestGraphs.qkGraph("q", false)).hasQk()).isTrue();
        assertThat(LoadedGraph.parse("h", TestGraphs.headsGraph("h")).hasQk()).isFalse();
        for (JsonNode l : Client.body(client.get("/api/graphs/" + TestGraphs.HEADS + "/view")).get("links")) {
            assertThat(l.has("qk")).isFalse();
        }
    }

    @Test
    void qkEntriesThatAreNotObjectsAreLeftOut() {
        ObjectNode graph = TestGraphs.qkGraph("odd-qk", true);
        ArrayNode qk = (ArrayNode) link(graph, "0_12_2", "1_40_3").get("qk");
        qk.add(7);
        qk.addArray().add(1).add(0);
        qk.addNull();
        ObjectNode other = (ObjectNode) link(graph, "0_7_3", "1_40_3");
        other.put("qk", "nonsense");                   // not an array: dropped
        ((ObjectNode) link(graph, "E_12_3", "1_40_3")).putArray("qk").add("x").add(3); // no object: dropped
        JsonNode view = GraphView.compute(LoadedGraph.parse("odd-qk", graph), ViewRequest.defaults(), null);
        JsonNode kept = link(view, "0_12_2", "1_40_3").get("qk");
        assertThat(kept).hasSize(2);
        assertThat(kept.get(0).get("layer").asInt()).isEqualTo(1);
        assertThat(kept.get(1).get("head").asInt()).isEqualTo(2);
        assertThat(link(view, "0_7_3", "1_40_3").has("qk")).isFalse();
        assertThat(link(view, "E_12_3", "1_40_3").has("qk")).isFalse();
    }
}
