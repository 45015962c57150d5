package org.circuittracer.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.dashboards.files.DashboardReader;
import org.circuittracer.demo.recipe.DemoEvaluation;
import org.circuittracer.demo.recipe.DemoRecipe;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The committed artifacts: complete, within the size budget, and still behaving as the recipe recorded. */
class DemoArtifactsTest {

    private static DemoFixture demo;

    @BeforeAll
    static void open() {
        demo = DemoFixture.open();
    }

    @AfterAll
    static void close() {
        demo.close();
    }

    @Test
    void theIndexListsEveryFileWithItsDigestAndTheTotalFitsTheBudget() throws Exception {
        // the committed directory (distribution/demo/artifacts; tests run in this module's directory); a jar or
        // target/classes can hold stale copies
        Path committed = Path.of("..", "demo", "artifacts");
        Path root = Files.isDirectory(committed) ? committed : demo.demo().root();
        List<String> lines = Files.readAllLines(root.resolve(DemoModel.INDEX), StandardCharsets.UTF_8);
        long total = 0;
        for (String line : lines) {
            String[] parts = line.split(" ");
            Path file = root.resolve(parts[0]);
            byte[] bytes = Files.readAllBytes(file);
            total += bytes.length;
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                    .as(parts[0]).isEqualTo(parts[1]);
        }
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(lines.size() + 1);
        }
        System.out.printf("demo artifacts: %d files, %.1f MB%n", lines.size(), total / 1e6);
        assertThat(total).isLessThanOrEqualTo(30_000_000L);
        assertThat(lines).anyMatch(l -> l.startsWith("model/model.safetensors "))
                .anyMatch(l -> l.startsWith("model/tokenizer.json "))
                .anyMatch(l -> l.startsWith("transcoders-plt/config.yaml "))
                .anyMatch(l -> l.startsWith("transcoders-clt/config.yaml "))
                .anyMatch(l -> l.startsWith("features-plt/index.json.gz "))
                .anyMatch(l -> l.startsWith("features-clt/index.json.gz "));
    }

    @Test
    void theModelStillScoresWhatTheRecipeRecorded() throws IOException {
        List<String> recorded = Files.readAllLines(demo.demo().model().resolve("evaluation.txt"));
        List<String> now = DemoEvaluation.evaluate(demo.model()).stream().map(DemoEvaluation.Score::toString).toList();
        assertThat(now).containsExactlyElementsOf(recorded);
    }

    @Test
    void bothTranscoderSetsAndTheirDashboardsLoad() throws IOException {
        assertThat(demo.dictionary().layers()).isEqualTo(demo.model().config().layers());
        try (SparseDictionary clt = new ReferenceCrossLayerProvider()
                .create(DictionarySource.of(demo.demo().crossLayerTranscoders()))) {
            assertThat(clt.outputLayers(0)).hasSize(demo.model().config().layers());
            DashboardReader dashboards = DashboardReader.open(demo.demo().crossLayerFeatures());
            assertThat(dashboards.layers()).hasSize(clt.layers());
            assertThat(clt.scan()).isEqualTo(localScan(demo.demo().crossLayerTranscoders()));
            assertThat(dashboards.scan()).contains(DemoRecipe.dashboardScan("transcoders-clt"));
        }
        DashboardReader plt = DashboardReader.open(demo.demo().perLayerFeatures());
        assertThat(demo.dictionary().scan()).isEqualTo(localScan(demo.demo().perLayerTranscoders()));
        assertThat(plt.scan()).contains(DemoRecipe.dashboardScan("transcoders-plt"));
        int withData = 0;
        for (int f = 0; f < demo.dictionary().features(1); f++) {
            withData += plt.read(1, f).isPresent() ? 1 : 0;
        }
        assertThat(withData).as("layer-1 features that fire on the corpus").isGreaterThan(100);
    }

    /**
     * The demo's transcoders are local: their config names no scan (no Hugging Face repository pretends to hold them),
     * so their scan is their directory's absolute path, and graphs of the demo make the reference viewer load
     * feature examples from the serving server's {@code /features/}.
     */
    private static String localScan(Path transcoders) throws IOException {
        assertThat(Files.readString(transcoders.resolve("config.yaml"))).doesNotContain("scan");
        return transcoders.toAbsolutePath().normalize().toString();
    }
}
