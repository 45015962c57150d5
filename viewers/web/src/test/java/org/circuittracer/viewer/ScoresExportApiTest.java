package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.circuittracer.attribution.prune.GraphFileScores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code /api/graphs/<slug>/scores} and {@code /api/graphs/<slug>/export} on the hand-made small graph. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScoresExportApiTest {

    @TempDir
    static Path tmp;

    private ViewerServer server;
    private Client client;
    private ObjectNode small;

    @BeforeAll
    void start() {
        Path graphs = tmp.resolve("graphs");
        small = TestGraphs.smallGraph(TestGraphs.SMALL);
        TestGraphs.write(graphs, small);
        ObjectNode stored = TestGraphs.smallGraph("with-scores");
        ObjectNode scores = ((ObjectNode) stored.get("metadata")).putObject("graph_scores");
        scores.put("replacement", 0.25);
        scores.put("completeness", 0.5);
        TestGraphs.write(graphs, stored);
        // a file whose links form a cycle: no scores, and a reason, never a 500
        ObjectNode cyclic = TestGraphs.smallGraph("cyclic");
        // 1_5_2's only input is itself: the influence series never ends
        com.fasterxml.jackson.databind.node.ArrayNode links = (com.fasterxml.jackson.databind.node.ArrayNode) cyclic
                .get("links");
        for (int i = links.size() - 1; i >= 0; i--) {
            if (links.get(i).get("target").asText().equals("1_5_2")) {
                links.remove(i);
            }
        }
        ObjectNode back = links.addObject();
        back.put("source", "1_5_2");
        back.put("target", "1_5_2");
        back.put("weight", 1.0);
        TestGraphs.write(graphs, cyclic);
        server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0));
        client = new Client(server.url());
    }

    @AfterAll
    void stop() {
        server.close();
    }

    /**
     * Pins 1_40_3 and the logit 3_20_3: the subgraph keeps them, every embedding and logit, and the error 0_1_3 (linked
     * to the pinned logit); 0_12_2, 0_7_3 and 1_5_2 go. Rows: 3_20_3 ← 1_40_3 4, 0_1_3 0.6, E_12_3 0.8 (sum 5.4);
     * 3_21_3 ← 1_40_3 −1; 1_40_3 ← E_12_3 0.5 (0_12_2 and 0_7_3 are gone). With w = (0.6, 0.25): I(1_40_3) = 0.6·4/5.4
     * + 0.25, I(0_1_3) = 0.6·0.6/5.4, I(E_12_3) = 0.6·0.8/5.4 + I(1_40_3): replacement 47/51; the masses I + w sum to
     * 431/180, of which 3_20_3's 0.6 is 1/9 error input: completeness 419/431.
     */
    @Test
    void subgraphScoresByHand() {
        JsonNode r = Client.body(client.post("/api/graphs/" + TestGraphs.SMALL + "/scores",
                Map.of("pinnedIds", List.of("1_40_3", "3_20_3"))));
        JsonNode sub = r.get("subgraph");
        assertThat(sub.get("replacement").asDouble()).isCloseTo(47 / 51.0, within(1e-6));
        assertThat(sub.get("completeness").asDouble()).isCloseTo(419 / 431.0, within(1e-6));
        assertThat(sub.get("pinned").asInt()).isEqualTo(2);
        assertThat(sub.get("features").asInt()).isEqualTo(1);
        assertThat(sub.get("errors").asInt()).isEqualTo(1);
        // the same through GET
        JsonNode g = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/scores?pinnedIds=1_40_3,3_20_3"));
        assertThat(g.get("subgraph")).isEqualTo(sub);
        // no stored scores in this file: graph is null, file is the whole file's
        assertThat(r.get("graph").isNull()).isTrue();
        assertThat(r.get("file").get("replacement").asDouble()).isCloseTo(fileScores(small).replacement(), within(1e-12));
        assertThat(r.get("file").get("completeness").asDouble()).isCloseTo(fileScores(small).completeness(),
                within(1e-12));
        // pins without a feature: 0, as Neuronpedia; no pins: no subgraph
        JsonNode onlyLogit = Client.body(client.post("/api/graphs/" + TestGraphs.SMALL + "/scores",
                Map.of("pinnedIds", List.of("3_20_3"))));
        assertThat(onlyLogit.get("subgraph").get("replacement").asDouble()).isZero();
        JsonNode none = Client.body(client.post("/api/graphs/" + TestGraphs.SMALL + "/scores",
                Map.of("pinnedIds", List.of())));
        assertThat(none.get("subgraph").isNull()).isTrue();
    }

    @Test
    void storedGraphScoresAreReturned() {
        JsonNode r = Client.body(client.get("/api/graphs/with-scores/scores"));
        assertThat(r.get("graph").get("replacement").asDouble()).isEqualTo(0.25);
        assertThat(r.get("graph").get("completeness").asDouble()).isEqualTo(0.5);
    }

    @Test
    void aCycleGivesNoScoresAndSaysWhy() {
        var r = client.get("/api/graphs/cyclic/scores?pinnedIds=1_5_2");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = Client.body(r);
        assertThat(body.get("file").get("replacement").isNull()).isTrue();
        assertThat(body.get("file").get("error").asText()).contains("cycle");
        assertThat(body.get("subgraph").get("error").asText()).contains("cycle");
    }

    @Test
    void badScoreRequests() {
        assertThat(client.post("/api/graphs/" + TestGraphs.SMALL + "/scores", Map.of("pinnedIds", "x"))
                .statusCode()).isEqualTo(400);
        assertThat(client.get("/api/graphs/nope/scores").statusCode()).isEqualTo(404);
    }

    @Test
    void subgraphExportHoldsThePinnedNodesAndTheirLinks() {
        HttpResponse<byte[]> r = client.post("/api/graphs/" + TestGraphs.SMALL + "/export", Map.of("subgraph", true,
                "pinnedIds", List.of("0_12_2", "1_40_3", "missing"), "supernodes",
                List.of(List.of("pair", "1_40_3", "3_20_3")), "labels", Map.of("1_40_3", "cat feature",
                        "3_20_3", "not a logit label"), "linkType", "both", "clickedId", "0_12_2"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Disposition").orElse("")).contains(TestGraphs.SMALL + "-subgraph.json");
        JsonNode g = Client.body(r);
        assertThat(g.get("metadata").get("slug").asText()).isEqualTo(TestGraphs.SMALL + "-subgraph");
        assertThat(g.get("metadata").get("prompt_tokens")).isEqualTo(small.get("metadata").get("prompt_tokens"));
        List<String> ids = new ArrayList<>();
        g.get("nodes").forEach(n -> ids.add(n.get("node_id").asText()));
        assertThat(ids).containsExactlyInAnyOrder("0_12_2", "1_40_3", "3_20_3");
        List<String> links = new ArrayList<>();
        g.get("links").forEach(l -> links.add(l.get("source").asText() + ">" + l.get("target").asText() + ":"
                + l.get("weight").asDouble()));
        assertThat(links).containsExactlyInAnyOrder("0_12_2>1_40_3:2.0", "1_40_3>3_20_3:4.0");
        JsonNode q = g.get("qParams");
        assertThat(q.get("pinnedIds")).hasSize(2);
        assertThat(q.get("supernodes").get(0).get(0).asText()).isEqualTo("pair");
        assertThat(q.get("linkType").asText()).isEqualTo("both");
        assertThat(q.get("clickedId").asText()).isEqualTo("0_12_2");
        for (JsonNode n : g.get("nodes")) {
            if (n.get("node_id").asText().equals("1_40_3")) {
                assertThat(n.get("clerp").asText()).isEqualTo("cat feature");
            }
            if (n.get("node_id").asText().equals("3_20_3")) {
                assertThat(n.get("clerp").asText()).startsWith("Output \" on\"");
            }
        }
        assertThat(client.post("/api/graphs/" + TestGraphs.SMALL + "/export", Map.of("subgraph", true,
                "pinnedIds", List.of("missing"))).statusCode()).isEqualTo(400);
    }

    @Test
    void wholeGraphExportCarriesThePagesState() {
        JsonNode g = Client.body(client.post("/api/graphs/" + TestGraphs.SMALL + "/export", Map.of("pinnedIds",
                List.of("1_40_3"), "labels", Map.of("0_7_3", "the"))));
        assertThat(g.get("nodes")).hasSize(small.get("nodes").size());
        assertThat(g.get("links")).hasSize(small.get("links").size());
        assertThat(g.get("metadata").get("slug").asText()).isEqualTo(TestGraphs.SMALL);
        assertThat(g.get("qParams").get("pinnedIds").get(0).asText()).isEqualTo("1_40_3");
    }

    static GraphFileScores.Scores fileScores(JsonNode graph) {
        List<String> ids = new ArrayList<>();
        graph.get("nodes").forEach(n -> ids.add(n.get("node_id").asText()));
        GraphFileScores.Kind[] kinds = new GraphFileScores.Kind[ids.size()];
        double[] w = new double[ids.size()];
        for (int i = 0; i < kinds.length; i++) {
            String type = graph.get("nodes").get(i).get("feature_type").asText();
            kinds[i] = type.contains("error") ? GraphFileScores.Kind.ERROR : type.equals("embedding")
                    ? GraphFileScores.Kind.TOKEN : type.equals("logit") ? GraphFileScores.Kind.LOGIT
                    : GraphFileScores.Kind.FEATURE;
            w[i] = graph.get("nodes").get(i).get("token_prob").asDouble();
        }
        int m = graph.get("links").size();
        int[] s = new int[m];
        int[] t = new int[m];
        float[] v = new float[m];
        for (int l = 0; l < m; l++) {
            JsonNode link = graph.get("links").get(l);
            s[l] = ids.indexOf(link.get("source").asText());
            t[l] = ids.indexOf(link.get("target").asText());
            v[l] = (float) link.get("weight").asDouble();
        }
        return GraphFileScores.compute(kinds, w, s, t, v);
    }
}
