package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code circuit-tracer qk}: one attention score of a saved graph split over its kept nodes. */
class QkCommandTest {

    @TempDir
    Path dir;

    private Path graphFile;

    private static String model() {
        return SharedFixtures.resolve("tiny-models/llama").toString();
    }

    private static String transcoders() {
        return SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString();
    }

    @BeforeEach
    void attribute() {
        graphFile = dir.resolve("g.graph.safetensors");
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("attribute", "--model", model(), "--transcoders",
                transcoders(), "--graph-file-dir", dir.resolve("graphs").toString(), "--max-feature-nodes", "16",
                "--slug", "g", "--prompt-ids", "1,5,9,13,21,34", "-o", graphFile.toString(), "-q");
        assertThat(r.exit()).as(r.err()).isZero();
    }

    private CircuitTracerCommandTest.Run qk(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("qk", graphFile.toString(), "--model", model(),
                "--transcoders", transcoders(), "-q"));
        args.addAll(List.of(more));
        return CircuitTracerCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void printsTheLargestTermsAmongTheGraphsNodesInNeuronpediasShape() throws IOException {
        CircuitTracerCommandTest.Run r = qk("--layer", "1", "--head", "2", "--query", "5", "--key", "2", "--top", "4");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("layer").asInt()).isEqualTo(1);
        assertThat(json.get("score").isNumber()).isTrue();
        assertThat(json.get("logit").asDouble()).isEqualTo(json.get("score").asDouble());
        assertThat(json.get("sources").asInt()).isPositive();
        Set<String> ids = new HashSet<>();
        new ObjectMapper().readTree(dir.resolve("graphs/g.json").toFile()).get("nodes")
                .forEach(n -> ids.add(n.get("node_id").asText()));
        JsonNode traced = json.get("qk_tracing_results");
        JsonNode pairs = traced.get("pair_wise_contributors");
        assertThat(pairs.size()).isBetween(1, 4);
        double previous = Double.POSITIVE_INFINITY;
        for (JsonNode pair : pairs) {
            assertThat(pair).hasSize(3);
            assertThat(ids).contains(pair.get(0).asText(), pair.get(1).asText());
            assertThat(Math.abs(pair.get(2).asDouble())).isLessThanOrEqualTo(previous);
            previous = Math.abs(pair.get(2).asDouble());
        }
        for (String side : List.of("top_q_marginal_contributors", "top_k_marginal_contributors")) {
            assertThat(traced.get(side).size()).isBetween(1, 4);
            traced.get(side).forEach(m -> assertThat(ids).contains(m.get(0).asText()));
        }
    }

    @Test
    void theGraphMayBeGivenAsAnOptionButOnlyOnce() throws IOException {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("qk", "--graph", graphFile.toString(), "--model",
                model(), "--transcoders", transcoders(), "--layer", "0", "--head", "1", "--query", "4", "--key", "3",
                "-q");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(new ObjectMapper().readTree(r.out()).get("head").asInt()).isEqualTo(1);
        CircuitTracerCommandTest.Run twice = qk("--graph", graphFile.toString(), "--layer", "0", "--head", "1",
                "--query", "4", "--key", "3");
        assertThat(twice.exit()).isEqualTo(2);
        assertThat(twice.err()).contains("once");
    }

    @Test
    void aKeyAfterTheQueryOrALayerOutsideTheModelIsRefusedBeforeTheModelIsLoaded() {
        CircuitTracerCommandTest.Run late = qk("--layer", "1", "--head", "0", "--query", "2", "--key", "3");
        assertThat(late.exit()).isEqualTo(2);
        assertThat(late.err()).contains("--key 3");
        CircuitTracerCommandTest.Run layer = qk("--layer", "99", "--head", "0", "--query", "2", "--key", "1");
        assertThat(layer.exit()).isEqualTo(2);
        assertThat(layer.err()).contains("--layer 99");
    }
}
