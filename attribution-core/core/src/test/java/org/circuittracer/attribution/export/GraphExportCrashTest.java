package org.circuittracer.attribution.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.circuittracer.testkit.crash.KillLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at seeded random points of exports ({@link KillLoop}: {@code -Dcrash.writes}, default 30 in
 * {@code mvn verify}; the 1,000 with {@code -Dcrash.writes=1000 -Dcrash.kills=1000}) by
 * {@link GraphJsonExporter#export}, in a child JVM ({@link GraphExporterMain}): after every kill the graph file and
 * {@code graph-metadata.json} each parse whole and hold a version that was written (the graph the last announced
 * export or the one before, the index the graph's or the one before it, never going back, the other graph's entry
 * kept), and nothing but the two files' temporary files is left beside them. The viewer's own writes of these files,
 * and the deletion of the temporary files when the server restarts, are tested by the viewer's
 * {@code GraphWriteCrashTest}.
 */
class GraphExportCrashTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SLUG = "g";
    private static final Pattern TEMPORARY = Pattern.compile("\\.(g\\.json|graph-metadata\\.json)\\.[0-9a-f]+\\.tmp");

    @TempDir
    Path dir;

    private int nodes;
    private int links;
    private int temporaries;
    private long previousGraph;
    private long previousIndex;

    @Test
    void killedExporterLeavesWholeGraphAndIndexFiles() throws Exception {
        GraphIndex.upsert(dir, GraphExporterMain.otherEntry());
        JsonNode built = GraphJsonExporter.build(GraphExporterMain.graph(), GraphExporterMain.options(SLUG)).json();
        nodes = built.get("nodes").size();
        links = built.get("links").size();
        // kill points spanning a whole export: building, the graph's temporary file, its fsync and rename, the index's
        KillLoop.Result r = KillLoop.of(GraphExporterMain.class, dir.toString(), SLUG).run(this::assertWhole);
        System.out.printf("GraphExportCrashTest: %s; %d temporary files left by the kills (the exporter does not "
                + "delete them; the viewer does when it starts)%n", r, temporaries);
        long next = r.writes() + 1;
        // and the next export in this process goes through and ends where the kills left it
        GraphJsonExporter.export(GraphExporterMain.graph(), GraphExporterMain.options(SLUG).withCreateTimeMs(next),
                dir);
        assertThat(JSON.readTree(dir.resolve(GraphJsonExporter.INDEX_FILE).toFile()).get("graphs")).hasSize(2);
    }

    /**
     * The graph parses with all its nodes and links and holds the last announced export or the one before, never going
     * back; the index keeps the other graph's entry and holds the graph's export or the one before it (the exporter
     * writes the graph, then the index); nothing but the two files' temporary files is beside them.
     */
    private void assertWhole(KillLoop.Kill kill) throws Exception {
        String when = kill.when();
        long graphWrite = 0;
        if (Files.exists(dir.resolve(SLUG + ".json"))) {
            JsonNode graph = JSON.readTree(dir.resolve(SLUG + ".json").toFile());
            assertThat(graph.get("nodes").size()).as("nodes of the graph %s", when).isEqualTo(nodes);
            assertThat(graph.get("links").size()).as("links of the graph %s", when).isEqualTo(links);
            graphWrite = graph.at("/metadata/info/create_time_ms").asLong();
        }
        if (graphWrite != previousGraph) {
            assertThat(graphWrite).as("graph %s", when).isBetween(kill.lastAnnounced() - 1, kill.lastAnnounced());
        }
        assertThat(graphWrite).as("graph %s", when).isGreaterThanOrEqualTo(previousGraph);
        JsonNode graphs = JSON.readTree(dir.resolve(GraphJsonExporter.INDEX_FILE).toFile()).get("graphs");
        assertThat(graphs.get(0).get("slug").asText()).as("index %s", when).isEqualTo("other");
        long indexWrite = 0;
        if (graphs.size() > 1) {
            assertThat(graphs).as("index %s", when).hasSize(2);
            assertThat(graphs.get(1).get("slug").asText()).isEqualTo(SLUG);
            indexWrite = graphs.get(1).at("/info/create_time_ms").asLong();
        }
        assertThat(indexWrite).as("index %s", when).isBetween(Math.max(previousIndex, graphWrite - 1), graphWrite);
        previousGraph = graphWrite;
        previousIndex = indexWrite;
        try (Stream<Path> list = Files.list(dir)) {
            List<String> others = list.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals(SLUG + ".json") && !n.equals(GraphJsonExporter.INDEX_FILE)).toList();
            assertThat(others).as("files beside the graph and the index %s", when)
                    .allMatch(n -> TEMPORARY.matcher(n).matches());
            temporaries = others.size();
        }
    }
}
