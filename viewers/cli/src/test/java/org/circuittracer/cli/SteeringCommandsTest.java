package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attribute --target}, {@code intervene}, {@code generate} and {@code bench} on the tiny llama fixture. */
class SteeringCommandsTest {

    private static final String PROMPT_IDS = "0,113,47,97,94,63";

    private static List<String> withModel(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--model",
                SharedFixtures.resolve("tiny-models/llama").toString(), "--transcoders",
                SharedFixtures.resolve("tiny-transcoders/llama-plt-relu").toString(), "--prompt-ids", PROMPT_IDS));
        args.addAll(List.of(more));
        return args;
    }

    private static CircuitTracerCommandTest.Run run(List<String> args) {
        return CircuitTracerCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void explicitTokenTargetsAndALogitDifferenceBecomeTheGraphsLogits(@TempDir Path dir) throws IOException {
        CircuitTracerCommandTest.Run tokens = run(withModel("attribute", "--slug", "t", "--graph-file-dir",
                dir.toString(), "--graph-output-path", dir.resolve("t.ctgraph").toString(), "--target", "#47",
                "--target", "#97", "--quiet"));
        assertThat(tokens.exit()).as(tokens.err()).isZero();
        AttributionGraph graph = GraphFile.load(dir.resolve("t.ctgraph"));
        assertThat(graph.logits()).extracting(Node.LogitNode::vocabIndex).containsExactly(47, 97);

        CircuitTracerCommandTest.Run difference = run(withModel("attribute", "--slug", "d", "--graph-file-dir",
                dir.toString(), "--graph-output-path", dir.resolve("d.ctgraph").toString(), "--target", "#47-#97",
                "--dtype", "bfloat16", "--quiet"));
        assertThat(difference.exit()).as(difference.err()).isZero();
        AttributionGraph diff = GraphFile.load(dir.resolve("d.ctgraph"));
        assertThat(diff.logits()).hasSize(1);
        assertThat(diff.logits().get(0).label()).contains(" − ");
        assertThat(diff.logits().get(0).weight()).isEqualTo(1f);
        assertThat(Files.readString(dir.resolve("d.json"))).contains("\"slug\" : \"d\"");

        CircuitTracerCommandTest.Run mixed = run(withModel("attribute", "--slug", "m", "--graph-file-dir",
                dir.toString(), "--target", "#47", "--target", "#47-#97", "--quiet"));
        assertThat(mixed.exit()).isEqualTo(2);
        assertThat(mixed.err()).contains("mixes tokens and logit differences");

        CircuitTracerCommandTest.Run outside = run(withModel("attribute", "--slug", "m", "--graph-file-dir",
                dir.toString(), "--target", "#999999", "--quiet"));
        assertThat(outside.exit()).isEqualTo(2);
        assertThat(outside.err()).contains("outside the model's vocabulary");
    }

    @Test
    void interveneShowsTheNextTokensWithAndWithoutTheInterventions() {
        CircuitTracerCommandTest.Run r = run(withModel("intervene", "-i", "0:*:all*20", "-i", "1:-1:3=4",
                "--mode", "free", "--top-k", "5"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("Loading model").contains("Intervening on");
        assertThat(r.out()).contains("Prompt: 0:").contains("unsteered").contains("steered").contains("Top token:");
        List<String> rows = r.out().lines().filter(l -> l.matches("\\s+[1-5]\\s.*")).toList();
        assertThat(rows).hasSize(5);
        // the table's two halves differ: the interventions moved the distribution
        assertThat(rows.stream().anyMatch(l -> {
            String[] cells = l.trim().split("\\s+");
            return !cells[1].equals(cells[3]) || !cells[2].equals(cells[4]);
        })).as(r.out()).isTrue();

        CircuitTracerCommandTest.Run none = run(withModel("intervene", "-i", "0:2:5*1", "--top-k", "3",
                "--quiet"));
        assertThat(none.exit()).as(none.err()).isZero();
        assertThat(none.out()).contains("(unchanged)");
        for (String line : none.out().lines().filter(l -> l.matches("\\s+[1-3]\\s.*")).toList()) {
            String[] cells = line.trim().split("\\s+");
            assertThat(cells[1]).isEqualTo(cells[3]);
            assertThat(Double.parseDouble(cells[2])).isCloseTo(Double.parseDouble(cells[4]),
                    org.assertj.core.data.Offset.offset(2e-4));
        }
    }

    @Test
    void generatePrintsSteeredAndUnsteeredContinuations(@TempDir Path dir) throws IOException {
        Path supernodes = Files.writeString(dir.resolve("supernodes.json"),
                "{\"supernodes\": [[\"group\", \"0_3_2\", \"1_5_3\"]]}");
        CircuitTracerCommandTest.Run r = run(withModel("generate", "-i", "0:1..:all*30", "--supernodes",
                supernodes.toString(), "--scale-supernode", "group=-2", "--max-new-tokens", "3", "--quiet"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Unsteered: ").contains("Steered:   ").contains("step");
        assertThat(r.out().lines().filter(l -> l.matches("\\s+[1-3]\\s.*")).count()).isBetween(1L, 3L);

        CircuitTracerCommandTest.Run url = run(withModel("generate", "--supernodes",
                "http://localhost/graph?supernodes=%5B%5B%22g%22%2C%220_3_2%22%5D%5D", "--scale-supernode", "g=0",
                "--max-new-tokens", "2", "--temperature", "0.5", "--seed", "4", "--quiet"));
        assertThat(url.exit()).as(url.err()).isZero();
    }

    @Test
    void badInterventionsAndOptionsAreUsageErrors() {
        for (String[] bad : List.of(new String[] {"-i", "0:1:2"}, new String[] {"-i", "x:1:2=3"},
                new String[] {"-i", "0:1:2=abc"}, new String[] {"--mode", "sideways", "-i", "0:1:2=1"},
                new String[] {"--scale-supernode", "g=2"}, new String[] {"--constrained-layers", "0..2", "-i",
                        "0:1:2=1"}, new String[] {"--top-k", "0", "-i", "0:1:2=1"})) {
            CircuitTracerCommandTest.Run r = run(withModel("intervene", bad));
            assertThat(r.exit()).as(Arrays.toString(bad)).isEqualTo(2);
            assertThat(r.err()).as(Arrays.toString(bad)).contains("Usage:").doesNotContain("Loading model");
        }
        CircuitTracerCommandTest.Run noIntervention = run(withModel("generate"));
        assertThat(noIntervention.exit()).isEqualTo(2);
        assertThat(noIntervention.err()).contains("--intervention");

        CircuitTracerCommandTest.Run layer = run(withModel("intervene", "-i", "9:1:2=1", "--quiet"));
        assertThat(layer.exit()).isEqualTo(2);
        assertThat(layer.err()).startsWith("error: [INVALID_ARGUMENT]").contains("layer 9 does not exist");

        CircuitTracerCommandTest.Run word = run(withModel("intervene", "-i", "0:@Nowhere:all*0", "--quiet"));
        assertThat(word.exit()).isEqualTo(2);
        assertThat(word.err()).contains("no prompt token reads 'Nowhere'").contains("0:");

        CircuitTracerCommandTest.Run position = run(withModel("intervene", "-i", "0:40:1*0", "--quiet"));
        assertThat(position.exit()).isEqualTo(2);
        assertThat(position.err()).contains("Position 40");
    }

    @Test
    void benchReportsThroughputAsFractionsOfTheMatmul(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("bench.json");
        CircuitTracerCommandTest.Run r = run(withModel("bench", "--matmul-size", "64", "--warmups", "0",
                "--iterations", "1", "--lanes", "4", "--max-feature-nodes", "16", "--json", json.toString(),
                "--quiet"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("matmul 64^3").contains("forward").contains("VJP, 4 lanes")
                .contains("attribution").contains("x matmul");
        var figures = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        for (String key : List.of("matmul_gflops", "forward_x_matmul", "vjp_x_matmul", "attribution_x_matmul")) {
            assertThat(figures.get(key).asDouble()).as(key).isPositive();
        }
        assertThat(figures.get("tokens").asInt()).isEqualTo(6);
        assertThat(run(withModel("bench", "--iterations", "0")).exit()).isEqualTo(2);
        assertThat(CircuitTracerCommandTest.run("bench", "--help").out()).contains("Examples").contains("fraction");
    }
}
