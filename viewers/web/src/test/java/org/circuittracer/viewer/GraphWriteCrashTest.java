package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.testkit.crash.KillLoop;
import org.circuittracer.viewer.files.FileWrites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at seeded random points of writes ({@link KillLoop}: {@code -Dcrash.writes}, default 30 in
 * {@code mvn verify}, as each kill costs a JVM start; the 1,000 with {@code -Dcrash.writes=1000
 * -Dcrash.kills=1000}) of a graph file (through {@code /save_graph}'s path, with its backup) and of the graph index:
 * after every kill each file is a complete old or new version (it parses, and the write number it holds is the last
 * announced one or the one before), and the temporary files the kills leave are deleted by the next server start once
 * stale. Extends {@link AnnotationCrashTest} to the other files the viewer and the exporter write.
 */
class GraphWriteCrashTest {

    private static final String SLUG = "g";

    @TempDir
    Path graphs;

    private final Set<String> tornTemporaries = new HashSet<>();
    private long previousGraph;
    private long previousIndex;

    @Test
    void killedWritersLeaveWholeGraphBackupAndIndexFiles() throws Exception {
        TestGraphs.write(graphs, TestGraphs.largeGraph(SLUG, 300, 20, 8, 8, 3)); // about 0.3 MB of JSON
        // kill points anywhere in a write: read, parse, backup, fsync, rename, index
        KillLoop.Result r = KillLoop.of(GraphWriterMain.class, graphs.toString(), SLUG).run(this::assertWhole);
        System.out.printf("GraphWriteCrashTest: %s; %d temporary files left by the kills%n", r,
                tornTemporaries.size());
        // a restart cleans up what the kills left, and serves the last whole version
        try (ViewerServer server = ViewerServer.start(ViewerConfig.of(graphs).withPort(0))) {
            try (Stream<Path> list = Files.list(graphs)) {
                assertThat(list.map(p -> p.getFileName().toString()).filter(FileWrites::isTemporary).toList())
                        .as("temporary files after the restart").isEmpty();
            }
            Client client = new Client(server.url());
            assertThat(Client.body(client.get("/api/graphs")).at("/graphs/0/available").asBoolean()).isTrue();
            assertThat(client.get("/api/graphs/" + SLUG + "/view").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Every file parses whole (a torn one would not), and holds a version that was written: the child announces write
     * n before it starts it, so the graph holds n or n - 1, or, killed in its first write, what it held before; the
     * backup and the index are never ahead of the graph.
     */
    private void assertWhole(KillLoop.Kill kill) throws Exception {
        JsonNode graph = TestGraphs.JSON.readTree(graphs.resolve(SLUG + ".json").toFile());
        assertThat(graph.get("nodes")).as("graph %s", kill.when()).hasSize(300 + 20 + 1);
        long graphWrite = graph.at("/qParams/write").asLong(0);
        if (graphWrite != previousGraph) {
            assertThat(graphWrite).as("graph %s", kill.when())
                    .isBetween(kill.lastAnnounced() - 1, kill.lastAnnounced());
        }
        Path bak = graphs.resolve(SLUG + ".json.bak");
        if (Files.exists(bak)) {
            JsonNode backup = TestGraphs.JSON.readTree(bak.toFile());
            assertThat(backup.get("nodes")).as("backup %s", kill.when()).hasSize(300 + 20 + 1);
            assertThat(backup.at("/qParams/write").asLong(0)).as("backup %s", kill.when())
                    .isLessThanOrEqualTo(graphWrite);
        }
        JsonNode index = TestGraphs.JSON.readTree(graphs.resolve("graph-metadata.json").toFile());
        assertThat(index.get("graphs")).hasSize(1);
        long indexWrite = index.get("graphs").get(0).path("write").asLong(0);
        assertThat(indexWrite).as("index %s", kill.when()).isBetween(previousIndex, graphWrite);
        previousGraph = graphWrite;
        previousIndex = indexWrite;
        try (Stream<Path> list = Files.list(graphs)) {
            List<Path> temporaries = list.filter(p -> FileWrites.isTemporary(p.getFileName().toString())).toList();
            temporaries.forEach(t -> tornTemporaries.add(t.getFileName().toString()));
            for (Path t : temporaries) { // as old as a crash before the last restart
                Files.setLastModifiedTime(t, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
            }
        }
    }
}
