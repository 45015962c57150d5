package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;
import org.circuittracer.viewer.graph.LoadedGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 10,000-node graph: the server sends a small pruned view instead of the whole file. */
class LargeGraphTest {

    @TempDir
    Path graphs;

    @Test
    void sendsASmallViewOfAHugeGraph() throws Exception {
        TestGraphs.write(graphs, TestGraphs.largeGraph("huge", 10_000, 40, 16, 12, 7));
        long fileSize = Files.size(graphs.resolve("huge.json"));
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            Client client = new Client(server.url());
            long t0 = System.nanoTime();
            HttpResponse<byte[]> first = client.get("/api/graphs/huge/view");
            long firstMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(first.statusCode()).isEqualTo(200);
            JsonNode view = Client.body(first);
            assertThat(view.at("/view/totalNodes").asInt()).isEqualTo(10_041);
            assertThat(view.get("nodes").size()).isLessThanOrEqualTo(1500);
            assertThat(view.get("links").size()).isLessThanOrEqualTo(12_000);
            assertThat(view.at("/view/nodesCapped").asInt()).isPositive();
            assertThat((long) first.body().length).isLessThan(fileSize / 10).isLessThan(3_000_000);
            // the cap keeps the most influential features (smallest cumulative influence)
            double worstKept = 0;
            for (JsonNode n : view.get("nodes")) {
                if (n.get("feature_type").asText().equals("cross layer transcoder")) {
                    worstKept = Math.max(worstKept, n.get("influence").asDouble());
                }
            }
            assertThat(worstKept).isLessThan(0.2);
            // later views (slider moves) re-prune the cached graph: timings are printed, not asserted (a loaded
            // machine makes any bound flaky); that the parse is cached is checked below without a clock
            t0 = System.nanoTime();
            JsonNode pinned = Client.body(client.get("/api/graphs/huge/view?pruningThreshold=0.05&keep=15_9999_"
                    + view.get("nodes").get(0).get("ctx_idx").asInt()));
            long laterMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("10k-node graph view: first %d ms, later %d ms%n", firstMs, laterMs);
            assertThat(pinned.get("nodes").size()).isLessThan(view.get("nodes").size());
            // gzip when the browser accepts it
            HttpResponse<byte[]> zipped = client.get("/api/graphs/huge/view", "Accept-Encoding", "gzip");
            assertThat(zipped.headers().firstValue("Content-Encoding")).contains("gzip");
            assertThat(zipped.body().length).isLessThan(first.body().length / 2);
        }
        // the parsed graph is cached until its file changes
        GraphStore store = new GraphStore(new ServedDirectory(graphs, "graph directory"));
        LoadedGraph loaded = store.load("huge");
        assertThat(store.load("huge")).isSameAs(loaded);
        Files.setLastModifiedTime(graphs.resolve("huge.json"), FileTime.fromMillis(
                Files.getLastModifiedTime(graphs.resolve("huge.json")).toMillis() - 60_000));
        assertThat(store.load("huge")).as("re-read once the file changed").isNotSameAs(loaded);
    }
}
