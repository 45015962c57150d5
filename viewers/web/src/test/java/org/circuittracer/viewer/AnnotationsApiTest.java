package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Annotations through the API: storage next to the graph, version checks, concurrent saves, saved subgraphs. */
class AnnotationsApiTest {

    private static final String PATH = "/api/graphs/" + TestGraphs.SMALL + "/annotations";

    @TempDir
    Path graphs;

    private ViewerServer server;
    private Client client;

    @BeforeEach
    void start() {
        TestGraphs.write(graphs, TestGraphs.smallGraph(TestGraphs.SMALL));
        server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0));
        client = new Client(server.url());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static Map<String, Object> edit(long base, String label) {
        return Map.of("baseVersion", base, "labels", Map.of("1_40_3", label),
                "pinnedIds", List.of("1_40_3", "0_12_2"), "supernodes", List.of(List.of("cat group", "1_40_3", "0_12_2")),
                "state", Map.of("clickedId", "1_40_3", "pruningThreshold", 0.6, "linkType", "both"));
    }

    @Test
    void startsEmptyAndStoresEditsNextToTheGraph() throws Exception {
        JsonNode empty = Client.body(client.get(PATH));
        assertThat(empty.get("version").asLong()).isZero();
        assertThat(empty.get("pinnedIds")).isEmpty();
        HttpResponse<byte[]> saved = client.put(PATH, edit(0, "says cat"));
        assertThat(saved.statusCode()).isEqualTo(200);
        assertThat(Client.body(saved).get("version").asLong()).isEqualTo(1);
        Path file = graphs.resolve(TestGraphs.SMALL + ".annotations.json");
        JsonNode onDisk = TestGraphs.JSON.readTree(file.toFile());
        assertThat(onDisk.get("format").asText()).isEqualTo("circuit-tracer-annotations");
        assertThat(onDisk.get("version").asLong()).isEqualTo(1);
        assertThat(onDisk.at("/labels/1_40_3").asText()).isEqualTo("says cat");
        assertThat(onDisk.at("/supernodes/0/0").asText()).isEqualTo("cat group");
        assertThat(Client.body(client.get(PATH)).at("/state/pruningThreshold").asDouble()).isEqualTo(0.6);
        // no temporary files are left behind
        try (var files = Files.list(graphs)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void refusesASaveBasedOnAnOlderVersion() {
        assertThat(client.put(PATH, edit(0, "first tab")).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> stale = client.put(PATH, edit(0, "second tab"));
        assertThat(stale.statusCode()).isEqualTo(409);
        JsonNode body = Client.body(stale);
        assertThat(body.get("error").asText()).isEqualTo("CONFLICT");
        assertThat(body.get("message").asText()).contains("saved elsewhere", "stored version 1", "based on version 0",
                "Reload");
        assertThat(Client.body(client.get(PATH)).at("/labels/1_40_3").asText()).isEqualTo("first tab");
    }

    @Test
    void concurrentSavesFromTheSameVersionLetExactlyOneWin() throws Exception {
        assertThat(client.put(PATH, edit(0, "base")).statusCode()).isEqualTo(200);
        int tabs = 8;
        ExecutorService pool = Executors.newFixedThreadPool(tabs);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < tabs; i++) {
            String label = "tab " + i;
            results.add(pool.submit(() -> {
                go.await();
                return client.put(PATH, edit(1, label)).statusCode();
            }));
        }
        go.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<Integer> f : results) {
            statuses.add(f.get());
        }
        pool.shutdown();
        assertThat(statuses).filteredOn(s -> s == 200).hasSize(1);
        assertThat(statuses).filteredOn(s -> s == 409).hasSize(tabs - 1);
        JsonNode stored = Client.body(client.get(PATH));
        assertThat(stored.get("version").asLong()).isEqualTo(2);
        assertThat(stored.at("/labels/1_40_3").asText()).startsWith("tab ");
    }

    @Test
    void explainsMalformedAnnotations() {
        assertThat(message(client.put(PATH, Map.of("labels", Map.of())))).contains("baseVersion");
        assertThat(message(client.put(PATH, Map.of("baseVersion", 0, "supernodes", List.of("not an array")))))
                .contains("[label, node_id, ...]");
        assertThat(message(client.put(PATH, Map.of("baseVersion", 0, "colour", "red")))).contains("Unknown annotation "
                + "field \"colour\"");
        assertThat(message(client.put(PATH, Map.of("baseVersion", 0, "state", Map.of("linkType", "sideways")))))
                .contains("linkType");
        assertThat(message(client.put(PATH, Map.of("baseVersion", 0, "labels", Map.of("x", 3))))).contains("must be text");
        assertThat(client.put("/api/graphs/missing/annotations", edit(0, "x")).statusCode()).isEqualTo(404);
    }

    private static String message(HttpResponse<byte[]> r) {
        assertThat(r.statusCode()).isEqualTo(400);
        return Client.body(r).get("message").asText();
    }

    @Test
    void savedSubgraphsAreListedAndKeepTheirContent() {
        assertThat(client.put(PATH, edit(0, "says cat")).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> added = client.post("/api/graphs/" + TestGraphs.SMALL + "/subgraphs", Map.of(
                "name", "cat circuit", "pinnedIds", List.of("1_40_3", "0_12_2", "3_20_3"),
                "supernodes", List.of(List.of("cat", "1_40_3", "0_12_2")), "labels", Map.of("3_20_3", "says on")));
        assertThat(added.statusCode()).isEqualTo(201);
        assertThat(Client.body(added).get("version").asLong()).isEqualTo(2);
        client.post("/api/graphs/" + TestGraphs.SMALL + "/subgraphs", Map.of("name", "second", "pinnedIds", List.of("0_7_3")));
        JsonNode list = Client.body(client.get("/api/graphs/" + TestGraphs.SMALL + "/subgraphs"));
        assertThat(list.get("subgraphs").findValuesAsText("name")).containsExactly("cat circuit", "second");
        JsonNode first = list.get("subgraphs").get(0);
        assertThat(first.get("id").asText()).isEqualTo(Client.body(added).get("id").asText());
        assertThat(first.get("pinnedIds")).hasSize(3);
        assertThat(first.at("/labels/3_20_3").asText()).isEqualTo("says on");
        // the rest of the annotations is untouched
        assertThat(Client.body(client.get(PATH)).at("/labels/1_40_3").asText()).isEqualTo("says cat");
        assertThat(message(client.post("/api/graphs/" + TestGraphs.SMALL + "/subgraphs", Map.of("pinnedIds", List.of()))))
                .contains("name");
    }
}
