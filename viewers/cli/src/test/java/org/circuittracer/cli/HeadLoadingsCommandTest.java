package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attribute --head-loadings}: every kept link of the graph JSON carries its top heads per layer and the
 * per-layer bypass, and with every head kept they add up to the link's weight in every layer.
 */
class HeadLoadingsCommandTest {

    @TempDir
    Path dir;

    private CircuitTracerCommandTest.Run attribute(String transcoders, String... more) {
        List<String> args = new ArrayList<>(List.of("attribute", "--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/" + transcoders).toString(), "--graph-file-dir",
                dir.resolve("graphs").toString(), "--max-feature-nodes", "16", "--slug", "g", "--prompt-ids",
                "1,5,9,13,21,34", "-q"));
        args.addAll(List.of(more));
        return CircuitTracerCommandTest.run(args.toArray(String[]::new));
    }

    private JsonNode graph() throws IOException {
        return new ObjectMapper().readTree(dir.resolve("graphs/g.json").toFile());
    }

    @Test
    void withEveryHeadKeptTheHeadsAndTheBypassGiveEachLinkInEveryLayer() throws IOException {
        for (String transcoders : List.of("llama-plt-relu", "llama-clt-relu")) {
            CircuitTracerCommandTest.Run r = attribute(transcoders, "--head-loadings", "64");
            assertThat(r.exit()).as(r.err()).isZero();
            JsonNode json = graph();
            JsonNode described = json.get("metadata").get("head_loadings");
            int layers = described.get("layers").asInt();
            int heads = described.get("heads").asInt();
            assertThat(described.get("top_k").asInt()).isEqualTo(64);
            assertThat(layers).isPositive();
            double largestWeight = 0;
            for (JsonNode link : json.get("links")) {
                largestWeight = Math.max(largestWeight, Math.abs(link.get("weight").asDouble()));
            }
            int throughHeads = 0;
            for (JsonNode link : json.get("links")) {
                double weight = link.get("weight").asDouble();
                assertThat(link.get("head_bypass")).as(transcoders + " " + link).hasSize(layers);
                Map<Integer, Double> perLayer = new HashMap<>();
                Map<Integer, Double> magnitude = new HashMap<>();
                for (JsonNode share : link.get("head_loadings")) {
                    int layer = share.get(0).asInt();
                    assertThat(share.get(1).asInt()).isBetween(0, heads - 1);
                    perLayer.merge(layer, share.get(2).asDouble(), Double::sum);
                    magnitude.merge(layer, Math.abs(share.get(2).asDouble()), Double::sum);
                    throughHeads++;
                }
                for (int m = 0; m < layers; m++) {
                    double bypass = link.get("head_bypass").get(m).asDouble();
                    double sum = bypass + perLayer.getOrDefault(m, 0.0);
                    double scale = Math.max(1e-2 * largestWeight, Math.max(Math.abs(weight),
                            Math.abs(bypass) + magnitude.getOrDefault(m, 0.0)));
                    assertThat(Math.abs(sum - weight)).as("%s, link %s, layer %d", transcoders, link, m)
                            .isLessThanOrEqualTo(1e-5 * scale);
                }
            }
            assertThat(throughHeads).as(transcoders + ": some link passes some head").isPositive();
        }
    }

    @Test
    void withoutANumberThreeHeadsPerLayerAreKept() throws IOException {
        CircuitTracerCommandTest.Run r = attribute("llama-plt-relu", "--head-loadings");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode json = graph();
        assertThat(json.get("metadata").get("head_loadings").get("top_k").asInt()).isEqualTo(3);
        for (JsonNode link : json.get("links")) {
            Map<Integer, Integer> perLayer = new HashMap<>();
            for (JsonNode share : link.get("head_loadings")) {
                perLayer.merge(share.get(0).asInt(), 1, Integer::sum);
            }
            perLayer.values().forEach(n -> assertThat(n).isLessThanOrEqualTo(3));
        }
    }

    @Test
    void theGraphFileKeepsTheLoadingsAndExportWritesTheSameLinks() throws IOException {
        Path graphFile = dir.resolve("g.graph.safetensors");
        CircuitTracerCommandTest.Run r = attribute("llama-plt-relu", "--head-loadings", "2", "-o",
                graphFile.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        var stored = org.circuittracer.attribution.graphfile.GraphFile.loadHeadLoadings(graphFile);
        assertThat(stored).isPresent();
        assertThat(stored.get().topK()).isEqualTo(2);
        JsonNode attributed = graph();
        assertThat(stored.get().loadings().loadings().edges()).isEqualTo(attributed.get("links").size());
        CircuitTracerCommandTest.Run exported = CircuitTracerCommandTest.run("export", graphFile.toString(), "--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--graph-file-dir",
                dir.resolve("again").toString(), "--slug", "g", "-q");
        assertThat(exported.exit()).as(exported.err()).isZero();
        JsonNode again = new ObjectMapper().readTree(dir.resolve("again/g.json").toFile());
        assertThat(again.get("metadata").get("head_loadings")).isEqualTo(attributed.get("metadata").get("head_loadings"));
        assertThat(again.get("links")).isEqualTo(attributed.get("links"));
        // a file without them has none, and the export writes none
        Path plain = dir.resolve("plain.graph.safetensors");
        assertThat(attribute("llama-plt-relu", "-o", plain.toString()).exit()).isZero();
        assertThat(org.circuittracer.attribution.graphfile.GraphFile.loadHeadLoadings(plain)).isEmpty();
    }

    @Test
    void qkExplainsTheStrongestCrossPositionLinksThroughTheirStrongestHead() throws IOException {
        CircuitTracerCommandTest.Run r = attribute("llama-plt-relu", "--qk", "4", "--qk-links", "3");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode json = graph();
        assertThat(json.get("metadata").get("qk").get("top_k").asInt()).isEqualTo(4);
        int links = json.get("metadata").get("qk").get("links").asInt();
        assertThat(links).isBetween(1, 3);
        assertThat(json.get("metadata").get("head_loadings").get("top_k").asInt()).isEqualTo(3);
        Map<String, Integer> positions = new HashMap<>();
        json.get("nodes").forEach(n -> positions.put(n.get("node_id").asText(), n.get("ctx_idx").asInt()));
        int annotated = 0;
        for (JsonNode link : json.get("links")) {
            if (!link.has("qk")) {
                continue;
            }
            annotated++;
            JsonNode entry = link.get("qk").get(0);
            assertThat(entry.get("query").asInt()).isEqualTo(positions.get(link.get("target").asText()));
            assertThat(entry.get("key").asInt()).isEqualTo(positions.get(link.get("source").asText()));
            assertThat(entry.get("key").asInt()).isLessThan(entry.get("query").asInt());
            // the explained head is the link's strongest
            JsonNode strongest = null;
            for (JsonNode share : link.get("head_loadings")) {
                if (strongest == null || Math.abs(share.get(2).asDouble()) > Math.abs(strongest.get(2).asDouble())) {
                    strongest = share;
                }
            }
            assertThat(entry.get("layer").asInt()).isEqualTo(strongest.get(0).asInt());
            assertThat(entry.get("head").asInt()).isEqualTo(strongest.get(1).asInt());
            JsonNode traced = entry.get("qk_tracing_results");
            assertThat(traced.get("pair_wise_contributors").size()).isBetween(1, 4);
            traced.get("pair_wise_contributors").forEach(p -> assertThat(positions).containsKeys(p.get(0).asText(),
                    p.get(1).asText()));
            assertThat(entry.get("score").isNumber()).isTrue();
        }
        assertThat(annotated).isEqualTo(links);
    }

    @Test
    void graphsWithoutTheOptionHaveNoHeadLoadings() throws IOException {
        assertThat(attribute("llama-plt-relu").exit()).isZero();
        JsonNode json = graph();
        assertThat(json.get("metadata").has("head_loadings")).isFalse();
        json.get("links").forEach(link -> assertThat(link.has("head_loadings")).isFalse());
    }

    @Test
    void aCountBelowOneIsRefusedBeforeTheModelIsLoaded() {
        CircuitTracerCommandTest.Run r = attribute("llama-plt-relu", "--head-loadings", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--head-loadings").contains("at least 1");
    }
}
