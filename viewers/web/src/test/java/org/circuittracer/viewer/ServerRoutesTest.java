package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.circuittracer.attribution.export.FeatureIds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reference's routes and ours without a model: files, byte ranges, confinement, limits and error answers. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerRoutesTest {

    @TempDir
    static Path tmp;

    private Path graphs;
    private Path features;
    private ViewerServer server;
    private Client client;
    private Map<Long, long[]> records;

    @BeforeAll
    void start() throws IOException {
        graphs = tmp.resolve("graphs");
        features = tmp.resolve("features");
        ObjectNode small = TestGraphs.smallGraph(TestGraphs.SMALL);
        TestGraphs.write(graphs, small);
        records = TestGraphs.writePackedFeatures(features, small);
        // a graph file above 1 MiB, for compression
        TestGraphs.write(graphs, TestGraphs.largeGraph("big", 3000, 12, 6, 4, 1));
        Files.writeString(tmp.resolve("secret.txt"), "TOP-SECRET");
        Files.createSymbolicLink(graphs.resolve("escape.json"), tmp.resolve("secret.txt"));
        Files.createSymbolicLink(features.resolve("escape-dir"), tmp);
        server = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(features).withPort(0));
        client = new Client(server.url());
    }

    @AfterAll
    void stop() {
        server.close();
    }

    @Test
    void bindsToLoopbackByDefault() {
        assertThat(ViewerConfig.of(graphs).host()).isEqualTo("127.0.0.1");
        assertThat(server.url().getHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void servesThePageAndItsAssets() {
        HttpResponse<byte[]> page = client.get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(Client.text(page)).contains("<script type=\"module\" src=\"/ui/main.js\">");
        assertThat(client.get("/index.html?slug=x").statusCode()).isEqualTo(200);
        HttpResponse<byte[]> d3 = client.get("/ui/vendor/d3.min.js");
        assertThat(d3.statusCode()).isEqualTo(200);
        assertThat(d3.headers().firstValue("Content-Type").orElse("")).startsWith("text/javascript");
        assertThat(client.get("/ui/main.js").statusCode()).isEqualTo(200);
    }

    @Test
    void servesTheIndexAndGraphsOnTheReferenceRoutes() throws IOException {
        HttpResponse<byte[]> index = client.get("/data/graph-metadata.json");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(index.headers().firstValue("Access-Control-Allow-Origin")).contains("*");
        assertThat(Client.body(index).get("graphs").findValuesAsText("slug")).contains(TestGraphs.SMALL, "big");
        HttpResponse<byte[]> graph = client.get("/graph_data/" + TestGraphs.SMALL + ".json");
        assertThat(graph.statusCode()).isEqualTo(200);
        assertThat(graph.body()).isEqualTo(Files.readAllBytes(graphs.resolve(TestGraphs.SMALL + ".json")));
        assertThat(client.get("/graph_data/nope.json").statusCode()).isEqualTo(404);
    }

    @Test
    void gzipsLargeDataFilesOnlyWhenAccepted() throws IOException {
        byte[] file = Files.readAllBytes(graphs.resolve("big.json"));
        assertThat(file.length).isGreaterThan(1 << 20);
        HttpResponse<byte[]> zipped = client.get("/graph_data/big.json", "Accept-Encoding", "gzip");
        assertThat(zipped.headers().firstValue("Content-Encoding")).contains("gzip");
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(zipped.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(file);
        }
        HttpResponse<byte[]> plain = client.get("/graph_data/big.json");
        assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(plain.body()).isEqualTo(file);
    }

    @Test
    void servesFeatureFilesRawWithByteRanges() throws IOException {
        byte[] bin = Files.readAllBytes(features.resolve("layer_1.bin"));
        long z = FeatureIds.pair(1, 40);
        long[] r = records.get(z);
        // the reference asks for one byte too many (inclusive end = next offset)
        HttpResponse<byte[]> ref = client.get("/features/layer_1.bin", "Range", "bytes=" + r[0] + "-" + r[1],
                "Accept-Encoding", "gzip");
        assertThat(ref.statusCode()).isEqualTo(206);
        assertThat(ref.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(ref.headers().firstValue("Accept-Ranges")).contains("bytes");
        long end = Math.min(r[1], bin.length - 1);
        assertThat(ref.headers().firstValue("Content-Range")).contains("bytes " + r[0] + "-" + end + "/" + bin.length);
        assertThat(ref.body()).isEqualTo(Arrays.copyOfRange(bin, (int) r[0], (int) end + 1));
        HttpResponse<byte[]> exact = client.get("/features/layer_1.bin", "Range", "bytes=" + r[0] + "-" + (r[1] - 1));
        assertThat(exact.body()).isEqualTo(Arrays.copyOfRange(bin, (int) r[0], (int) r[1]));
        HttpResponse<byte[]> open = client.get("/features/layer_1.bin", "Range", "bytes=" + r[0] + "-");
        assertThat(open.body()).hasSize(bin.length - (int) r[0]);
        HttpResponse<byte[]> suffix = client.get("/features/layer_1.bin", "Range", "bytes=-10");
        assertThat(suffix.body()).isEqualTo(Arrays.copyOfRange(bin, bin.length - 10, bin.length));
        HttpResponse<byte[]> past = client.get("/features/layer_1.bin", "Range", "bytes=" + bin.length + "-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(Client.body(past).get("message").asText()).contains("past the end");
        assertThat(client.get("/features/layer_1.bin", "Range", "bytes=0-1,4-5").statusCode()).isEqualTo(416);
        HttpResponse<byte[]> whole = client.get("/features/index.json.gz", "Accept-Encoding", "gzip");
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(Files.readAllBytes(features.resolve("index.json.gz")));
        HttpResponse<byte[]> head = client.send("HEAD", "/features/index.json.gz", null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(whole.body().length);
    }

    @Test
    void decodesPackedFeatureRecords() throws IOException {
        for (long z : records.keySet()) {
            HttpResponse<byte[]> r = client.get("/api/features/" + z);
            assertThat(r.statusCode()).isEqualTo(200);
            ObjectNode expected = TestGraphs.featureDetails(z,
                    Client.body(r).at("/examples_quantiles/0/examples/0/tokens/1").asText().trim());
            assertThat(Client.body(r)).isEqualTo(TestGraphs.JSON.readTree(TestGraphs.JSON.writeValueAsBytes(expected)));
        }
        // a record read through the reference route decodes to the same object
        long z = FeatureIds.pair(0, 12);
        long[] r = records.get(z);
        byte[] slice = client.get("/features/layer_0.bin", "Range", "bytes=" + r[0] + "-" + r[1]).body();
        int n = java.nio.ByteBuffer.wrap(slice, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        try (InflaterInputStream in = new InflaterInputStream(new ByteArrayInputStream(slice, 4, n))) {
            assertThat(TestGraphs.JSON.readTree(in.readAllBytes())).isEqualTo(Client.body(client.get("/api/features/" + z)));
        }
        HttpResponse<byte[]> missing = client.get("/api/features/" + FeatureIds.pair(1, 3));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(Client.body(missing).get("message").asText()).contains("No details");
        assertThat(client.get("/api/features/abc").statusCode()).isEqualTo(400);
    }

    @Test
    void readsThePerFeatureLayoutToo() throws IOException {
        Path perFeature = tmp.resolve("per-feature");
        Files.createDirectories(perFeature);
        long z = FeatureIds.pair(1, 40);
        TestGraphs.JSON.writeValue(perFeature.resolve(z + ".json").toFile(), TestGraphs.featureDetails(z, "owl"));
        try (ViewerServer other = ViewerServer.start(ViewerConfig.of(graphs).withFeaturesDir(perFeature).withPort(0))) {
            Client c = new Client(other.url());
            assertThat(Client.body(c.get("/api/features/" + z)).at("/examples_quantiles/0/examples/0/tokens/1").asText())
                    .isEqualTo(" owl");
            assertThat(Client.body(c.get("/api/status")).at("/features/layout").asText()).isEqualTo("per-feature");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/data/../secret.txt", "/data/%2e%2e/secret.txt", "/data/..%2fsecret.txt",
        "/data/%2e%2e%2fsecret.txt", "/graph_data/..%5csecret.txt", "/data//etc/passwd", "/data/%2Fetc%2Fpasswd",
        "/data/escape.json", "/features/../secret.txt", "/features/escape-dir/secret.txt",
        "/features/%2e%2e/secret.txt", "/graph_data/./../secret.txt", "/ui/../../secret.txt", "/ui/%2e%2e/secret.txt",
        "/api/graphs/..%2Fsecret/annotations", "/api/graphs/%2e%2e/view", "/data/%00secret.txt", "/data/%zz"})
    void confinesEveryPathToItsDirectory(String target) {
        Client.RawResponse r = client.raw("GET", target, null, null);
        assertThat(r.status()).as(target).isBetween(400, 404);
        assertThat(r.whole()).doesNotContain("TOP-SECRET").doesNotContain("root:");
    }

    @Test
    void refusesToSaveOutsideTheGraphDirectory() throws IOException {
        for (String target : new String[] {"/save_graph/..%2f..%2fsecret", "/save_graph/%2e%2e", "/save_graph/.hidden"}) {
            Client.RawResponse r = client.raw("POST", target, "Content-Type: application/json\r\n",
                    "{\"qParams\":{}}".getBytes(StandardCharsets.UTF_8));
            assertThat(r.status()).as(target).isBetween(400, 404);
        }
        assertThat(Files.readString(tmp.resolve("secret.txt"))).isEqualTo("TOP-SECRET");
    }

    @Test
    void answersUnknownRoutesWithAJsonMessage() {
        HttpResponse<byte[]> get = client.get("/no/such/route");
        assertThat(get.statusCode()).isEqualTo(404);
        assertThat(Client.body(get).get("message").asText()).contains("/no/such/route");
        HttpResponse<byte[]> post = client.post("/no/such/route", Map.of());
        assertThat(post.statusCode()).isEqualTo(404);
        assertThat(Client.body(post).get("error").asText()).isEqualTo("NOT_FOUND");
        assertThat(client.get("/api/graphs/nope/view").statusCode()).isEqualTo(404);
    }

    @Test
    void rejectsMalformedJsonWithTheReason() {
        HttpResponse<byte[]> r = client.put("/api/graphs/" + TestGraphs.SMALL + "/annotations", "{\"baseVersion\": 0,");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Client.body(r).get("message").asText()).contains("not valid JSON");
        HttpResponse<byte[]> empty = client.send("PUT", "/api/graphs/" + TestGraphs.SMALL + "/annotations", "");
        assertThat(empty.statusCode()).isEqualTo(400);
        HttpResponse<byte[]> save = client.post("/save_graph/" + TestGraphs.SMALL, "[1,2");
        assertThat(save.statusCode()).isEqualTo(400);
        HttpResponse<byte[]> threshold = client.get("/api/graphs/" + TestGraphs.SMALL + "/view?pruningThreshold=2");
        assertThat(threshold.statusCode()).isEqualTo(400);
        assertThat(Client.body(threshold).get("message").asText()).contains("pruningThreshold");
    }

    @Test
    void refusesBodiesDeclaredOversizedBeforeTheyAreSent() throws IOException {
        // The server answers 413 from the Content-Length alone and closes the connection; a client still sending a
        // large body may then see a reset instead of the answer (how TCP works), so this client sends only the head
        // and checks what any client can rely on: the 413 arrives without the body, and nothing was stored.
        String path = "/api/graphs/" + TestGraphs.SMALL + "/annotations";
        JsonNode before = Client.body(client.get(path));
        long limit = ViewerConfig.DEFAULT_MAX_BODY_BYTES;
        Client.RawResponse r = client.partial("PUT", path, "Content-Type: application/json\r\nContent-Length: "
                + (limit + (1 << 20)) + "\r\n", new byte[0]);
        assertThat(r.status()).as(r.whole()).isEqualTo(413);
        assertThat(Client.JSON.readTree(r.body()).get("message").asText()).contains("at most " + limit + ".");
        assertThat(Client.body(client.get(path))).as("nothing was stored").isEqualTo(before);
    }

    @Test
    void refusesChunkedBodiesOnceTheyPassTheLimit() throws IOException {
        // Without Content-Length the limit still holds: one chunk announces 2 MiB, and exactly limit + 1 bytes of it
        // are sent, which the server must all read to see the limit passed, so it answers having read everything
        // sent (nothing unread that could reset the connection before the answer is read).
        int limit = 1 << 20; // /save_graph's limit (DataRoutes.SAVE_GRAPH_LIMIT)
        Path file = graphs.resolve(TestGraphs.SMALL + ".json");
        byte[] graphBefore = Files.readAllBytes(file);
        byte[] sent = (Integer.toHexString(2 << 20) + "\r\n" + "b".repeat(limit + 1))
                .getBytes(StandardCharsets.ISO_8859_1);
        Client.RawResponse r = client.partial("POST", "/save_graph/" + TestGraphs.SMALL,
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", sent);
        assertThat(r.status()).as(r.whole()).isEqualTo(413);
        assertThat(Client.JSON.readTree(r.body()).get("message").asText()).contains("at most " + limit + ".");
        assertThat(Files.readAllBytes(file)).as("nothing was written").isEqualTo(graphBefore);
        assertThat(graphs.resolve(TestGraphs.SMALL + ".json.bak")).doesNotExist();
        assertThat(client.get("/data/graph-metadata.json").statusCode()).as("the server still answers").isEqualTo(200);
    }

    @Test
    void saveGraphReplacesQParamsVerbatimAndKeepsABackup() throws IOException {
        Path tmpGraphs = tmp.resolve("save");
        TestGraphs.write(tmpGraphs, TestGraphs.smallGraph("g"));
        byte[] before = Files.readAllBytes(tmpGraphs.resolve("g.json"));
        try (ViewerServer s = ViewerServer.start(ViewerConfig.of(tmpGraphs).withPort(0))) {
            Client c = new Client(s.url());
            String body = "{\"qParams\":{\"pinnedIds\":\"1_40_3,0_12_2\",\"supernodes\":\"[[\\\"say cat\\\",\\\"1_40_3\\\"]]\","
                    + "\"linkType\":null,\"clickedId\":\"1_40_3\",\"pruningThreshold\":\"0.6\"},\"timestamp\":\"2025-01-01\"}";
            HttpResponse<byte[]> r = c.post("/save_graph/g", body);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(Client.body(r).get("ok").asBoolean()).isTrue();
            JsonNode saved = TestGraphs.JSON.readTree(tmpGraphs.resolve("g.json").toFile());
            assertThat(saved.get("qParams")).isEqualTo(TestGraphs.JSON.readTree(body).get("qParams"));
            assertThat(saved.get("nodes")).isEqualTo(TestGraphs.JSON.readTree(before).get("nodes"));
            assertThat(Files.readAllBytes(tmpGraphs.resolve("g.json.bak"))).isEqualTo(before);
            assertThat(c.post("/save_graph/g", "{\"timestamp\":1}").statusCode()).isEqualTo(400);
            assertThat(c.post("/save_graph/missing", "{\"qParams\":{}}").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void modelRoutesExplainThatNoModelIsLoaded() {
        HttpResponse<byte[]> create = client.post("/api/graphs", Map.of("prompt", "the cat", "slug", "x"));
        assertThat(create.statusCode()).isEqualTo(501);
        assertThat(Client.body(create).get("message").asText()).contains("without a model");
        assertThat(client.post("/api/graphs/" + TestGraphs.SMALL + "/steer", Map.of()).statusCode()).isEqualTo(501);
        assertThat(Client.body(client.get("/api/status")).get("model").isNull()).isTrue();
    }

    @Test
    void prunesTheViewToThresholdsButKeepsPinnedNodes() {
        JsonNode all = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/view"));
        assertThat(all.get("nodes")).hasSize(11);
        assertThat(all.at("/view/totalLinks").asInt()).isEqualTo(11);
        JsonNode pruned = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/view?pruningThreshold=0.4"));
        assertThat(pruned.get("nodes").findValuesAsText("node_id")).contains("0_12_2", "1_40_3", "3_20_3", "E_1_0")
                .doesNotContain("0_7_3", "1_5_2", "0_1_3");
        JsonNode kept = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL
                + "/view?pruningThreshold=0.4&keep=1_5_2"));
        assertThat(kept.get("nodes").findValuesAsText("node_id")).contains("1_5_2");
        JsonNode dense = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/view?densityThreshold=0.01"));
        // frequencies are (z % 100) / 1000: features with z % 100 > 10 are hidden
        assertThat(dense.at("/view/densityKnown").asInt()).isEqualTo(4);
        assertThat(dense.at("/view/hiddenByDensity").asInt()).isPositive();
    }
}
