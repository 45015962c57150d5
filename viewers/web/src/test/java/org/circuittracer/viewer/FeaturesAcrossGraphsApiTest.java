package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.circuittracer.viewer.graph.FeaturesAcrossGraphs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code GET /api/features-across-graphs} and the page that shows it: the batch's file served as it is, a 404 saying
 * how to make it when absent, a 400 saying what is wrong when it is broken (never a 500).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FeaturesAcrossGraphsApiTest {

    /** What {@code circuit-tracer batch} writes, hand-made: two features over two graphs. */
    static final String SAMPLE = """
            {"format": "circuit-tracer-features-across-graphs", "format_version": 1, "graphs_total": 2,
             "features_total": 3, "max_features": 2, "max_graphs_per_feature": 50,
             "features": [
               {"layer": 1, "feature": 40, "feature_id": 860, "graphs": 2, "mean_influence": 0.3,
                "min_influence": 0.2, "max_influence": 0.4,
                "appears_in": [{"slug": "small-demo", "influence": 0.2, "node_ids": ["1_40_3"]},
                               {"slug": "other", "influence": 0.4, "node_ids": ["1_40_1", "1_40_2"]}]},
               {"layer": 0, "feature": 12, "feature_id": 90, "graphs": 1, "mean_influence": 0.1,
                "min_influence": 0.1, "max_influence": 0.1,
                "appears_in": [{"slug": "small-demo", "influence": 0.1, "node_ids": ["0_12_2"]}]}]}
            """;

    @TempDir
    static Path tmp;

    private Path file;
    private ViewerServer server;
    private Client client;

    @BeforeAll
    void start() throws IOException {
        Path graphs = tmp.resolve("graphs");
        TestGraphs.write(graphs, TestGraphs.smallGraph(TestGraphs.SMALL));
        file = graphs.resolve(FeaturesAcrossGraphs.FILE_NAME);
        server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0));
        client = new Client(server.url());
    }

    @AfterAll
    void stop() {
        server.close();
    }

    @Test
    void servesTheBatchFileAndTheStatusSaysItIsThere() throws IOException {
        Files.writeString(file, SAMPLE, StandardCharsets.UTF_8);

        HttpResponse<byte[]> r = client.get("/api/features-across-graphs");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(Client.body(r)).isEqualTo(Client.JSON.readTree(SAMPLE));
        assertThat(Client.body(client.get("/api/status")).get("featuresAcrossGraphs").asBoolean()).isTrue();
    }

    @Test
    void withoutTheFileAnswers404SayingHowToMakeIt() throws IOException {
        Files.deleteIfExists(file);

        HttpResponse<byte[]> r = client.get("/api/features-across-graphs");

        assertThat(r.statusCode()).isEqualTo(404);
        JsonNode error = Client.body(r);
        assertThat(error.get("error").asText()).isEqualTo("NOT_FOUND");
        assertThat(error.get("message").asText()).contains(FeaturesAcrossGraphs.FILE_NAME, "circuit-tracer batch");
        assertThat(Client.body(client.get("/api/status")).get("featuresAcrossGraphs").asBoolean()).isFalse();
    }

    static Stream<Arguments> brokenFiles() {
        String row = "{\"layer\": 1, \"feature\": 2, \"graphs\": 1, ";
        return Stream.of(
                Arguments.of("{\"features\": [{\"layer\": 1,", "not valid JSON"),
                Arguments.of("[1, 2]", "\"features\" array"),
                Arguments.of("{\"features\": {}}", "\"features\" array"),
                Arguments.of("{\"features\": [7]}", "features[0] that is not an object"),
                Arguments.of("{\"features\": [" + row.replace("\"layer\": 1", "\"layer\": -1")
                        + "\"appears_in\": []}]}", "features[0].layer"),
                Arguments.of("{\"features\": [" + row.replace("\"feature\": 2", "\"feature\": 2.5")
                        + "\"appears_in\": []}]}", "features[0].feature"),
                Arguments.of("{\"features\": [" + row + "\"x\": 0}]}", "features[0].appears_in"),
                Arguments.of("{\"features\": [" + row + "\"appears_in\": [{}]}]}", "appears_in[0] without"),
                Arguments.of("{\"features\": [" + row + "\"appears_in\": [{\"slug\": \"a\", \"node_ids\": 3}]}]}",
                        "node_ids"));
    }

    @ParameterizedTest
    @MethodSource("brokenFiles")
    void aBrokenFileIsA400SayingWhatIsWrong(String content, String expected) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);

        HttpResponse<byte[]> r = client.get("/api/features-across-graphs");

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = Client.body(r);
        assertThat(error.get("error").asText()).isEqualTo("MALFORMED_FILE");
        assertThat(error.get("message").asText()).contains(FeaturesAcrossGraphs.FILE_NAME, expected,
                "circuit-tracer batch");
    }

    @Test
    void servesThePageAndItsScript() {
        HttpResponse<byte[]> page = client.get("/global.html");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(Client.text(page)).contains("<script type=\"module\" src=\"/ui/global.js\">");
        assertThat(client.get("/ui/global.js").statusCode()).isEqualTo(200);
        assertThat(Client.text(client.get("/"))).contains("href=\"/global.html\"");
    }
}
