package org.circuittracer.cli;

import org.circuittracer.testkit.SharedFixtures;
import static org.assertj.core.api.Assertions.assertThat;
import java.io.IOException;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.demo.DemoModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands with no model named: the embedded demo model, its per-layer transcoders and its Dallas prompt.
 * Skipped while the demo's trained artifacts are not on the class path.
 */
class DemoModelCommandsTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @BeforeAll
    static void demoPresent() {
        if (DemoModel.class.getClassLoader().getResource(DemoModel.RESOURCE_ROOT + DemoModel.INDEX) == null) {
            SharedFixtures.missing("the demo's artifacts are not on the class path (build distribution/demo first)");
        }
    }

    @Test
    void attributeWithoutArgumentsWritesTheDallasGraph(@TempDir Path dir) throws IOException {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("attribute", "--graph-file-dir", dir.toString(),
                "--quiet");
        assertThat(r.exit()).as(r.err()).isZero();
        String slug = AttributeCommand.defaultSlug(AttributeCommand.DEMO_PROMPT_SHOWN);
        JsonNode json = MAPPER.readTree(dir.resolve(slug + ".json").toFile());
        assertThat(json.get("metadata").get("slug").asText()).isEqualTo(slug);
        assertThat(json.get("metadata").get("prompt").asText()).contains("Dallas");
        assertThat(json.get("nodes").size()).isPositive();
        assertThat(json.get("links").size()).isPositive();
        assertThat(MAPPER.readTree(dir.resolve("graph-metadata.json").toFile()).get("graphs")).hasSize(1);

        CircuitTracerCommandTest.Run clt = CircuitTracerCommandTest.run("attribute", "--transcoders", "demo-clt",
                "--target", "Austin", "--slug", "clt", "--graph-file-dir", dir.toString(), "--quiet");
        assertThat(clt.exit()).as(clt.err()).isZero();
        assertThat(MAPPER.readTree(dir.resolve("clt.json").toFile()).get("nodes").size()).isPositive();
    }

    @Test
    void serveDefaultsToTheDemoWithItsDashboards(@TempDir Path dir) throws Exception {
        CircuitTracerCommandTest.Run made = CircuitTracerCommandTest.run("attribute", "--graph-file-dir",
                dir.toString(), "--slug", "dallas", "--quiet");
        assertThat(made.exit()).as(made.err()).isZero();
        assertThat(made.out()).contains("To view it: circuit-tracer serve --graph-file-dir " + dir)
                .doesNotContain("--model").doesNotContain("--transcoders").contains("?slug=dallas");
        try (ServeCommandTest.Background serve = new ServeCommandTest.Background(java.util.List.of("serve",
                "--graph-file-dir", dir.toString(), "--port", "0"))) {
            String base = serve.awaitAddress("Viewer running at ");
            java.net.http.HttpResponse<String> status = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "api/status")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            JsonNode json = MAPPER.readTree(status.body());
            assertThat(json.get("model").isNull()).as(status.body()).isFalse();
            if (java.nio.file.Files.isDirectory(DemoModel.locate().perLayerFeatures())) {
                assertThat(json.get("features").isNull()).as(status.body()).isFalse();
            }
            assertThat(serve.stop()).as(serve.err()).isZero();
        }
    }

    @Test
    void flippingTheDallasFeaturesOfTheFirstTwoLayersChangesThePrediction() {
        CircuitTracerCommandTest.Run clean = CircuitTracerCommandTest.run("intervene", "-i", "0:@Dallas:5*1",
                "--quiet", "--top-k", "1");
        assertThat(clean.exit()).as(clean.err()).isZero();
        assertThat(clean.out()).contains("Top token: Austin -> Austin (unchanged)");

        CircuitTracerCommandTest.Run flipped = CircuitTracerCommandTest.run("intervene", "-i", "0:@Dallas:all*-1",
                "-i", "1:@Dallas:all*-1", "--quiet");
        assertThat(flipped.exit()).as(flipped.err()).isZero();
        assertThat(flipped.out()).contains("Top token: Austin -> ").contains("(changed)");

        CircuitTracerCommandTest.Run generated = CircuitTracerCommandTest.run("generate", "-i", "0:@Dallas:all*-1",
                "-i", "1:@Dallas:all*-1", "--max-new-tokens", "2", "--quiet");
        assertThat(generated.exit()).as(generated.err()).isZero();
        assertThat(generated.out()).contains("Unsteered: Austin");
    }

    @Test
    void badArgumentsOnTheDemoAreUsageErrors() {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("intervene", "-i", "0:@Dallas:all");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Usage:");
        CircuitTracerCommandTest.Run word = CircuitTracerCommandTest.run("intervene", "-i", "0:@Paris:all*0", "--quiet");
        assertThat(word.exit()).isEqualTo(2);
        assertThat(word.err()).contains("no prompt token reads 'Paris'");
    }
}
