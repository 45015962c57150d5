package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.circuittracer.viewer.files.FileWrites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at seeded random points of {@code -Dcrash.writes} writes (default 30 in {@code mvn verify}, as each
 * kill costs a JVM start; the 1,000 with {@code -Dcrash.writes=1000}) of a graph file (through
 * {@code /save_graph}'s path, with its backup) and of the graph index: after every kill each file is a complete old
 * or new version (it parses, and the write number it holds is the last announced one or the one before), and the
 * temporary files the kills leave are deleted by the next server start once stale. Extends
 * {@link AnnotationCrashTest} to the other files the viewer and the exporter write.
 */
class GraphWriteCrashTest {

    private static final String SLUG = "g";

    @TempDir
    Path graphs;

    @Test
    void killedWritersLeaveWholeGraphBackupAndIndexFiles() throws Exception {
        int target = Integer.getInteger("crash.writes", 30);
        TestGraphs.write(graphs, TestGraphs.largeGraph(SLUG, 300, 20, 8, 8, 3)); // about 0.3 MB of JSON
        Random rnd = new Random(22);
        Path errors = Files.createTempFile("graph-writer", ".err");
        long next = 1;
        int kills = 0;
        int tornTemporaries = 0;
        long previousGraph = 0;
        long previousIndex = 0;
        while (next <= target && kills < 1_000) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), GraphWriterMain.class.getName(),
                    graphs.toString(), SLUG, Long.toString(next)).redirectError(errors.toFile()).start();
            long lastAnnounced = next - 1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                // let it announce a seeded number of writes (about 20 kills per run), then kill it after a seeded
                // pause that lands anywhere in a write (read, parse, backup, fsync, rename, index)
                int perChild = Math.max(5, target / 10);
                int writes = 1 + rnd.nextInt(Math.min(perChild, Math.max(1, (int) (target - next + 1))));
                for (int i = 0; i < writes; i++) {
                    String line = out.readLine();
                    if (line == null) {
                        throw new AssertionError("the child ended early; its stderr:\n" + Files.readString(errors));
                    }
                    lastAnnounced = Long.parseLong(line.substring("writing ".length()));
                }
                Thread.sleep(rnd.nextInt(60));
                child.toHandle().destroyForcibly(); // SIGKILL
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.matches("writing \\d+")) {
                        lastAnnounced = Long.parseLong(line.substring("writing ".length()));
                    }
                }
            }
            kills++;
            // every file parses whole (a torn one would not), and holds a version that was written: the child
            // announces write n before it starts it, so the graph holds n or n - 1, or, killed in its first write,
            // what it held before; the backup and the index are never ahead of the graph
            JsonNode graph = TestGraphs.JSON.readTree(graphs.resolve(SLUG + ".json").toFile());
            assertThat(graph.get("nodes")).as("graph after kill %d", kills).hasSize(300 + 20 + 1);
            long graphWrite = graph.at("/qParams/write").asLong(0);
            if (graphWrite != previousGraph) {
                assertThat(graphWrite).as("graph after kill %d", kills).isBetween(lastAnnounced - 1, lastAnnounced);
            }
            Path bak = graphs.resolve(SLUG + ".json.bak");
            if (Files.exists(bak)) {
                JsonNode backup = TestGraphs.JSON.readTree(bak.toFile());
                assertThat(backup.get("nodes")).as("backup after kill %d", kills).hasSize(300 + 20 + 1);
                assertThat(backup.at("/qParams/write").asLong(0)).as("backup after kill %d", kills)
                        .isLessThanOrEqualTo(graphWrite);
            }
            JsonNode index = TestGraphs.JSON.readTree(graphs.resolve("graph-metadata.json").toFile());
            assertThat(index.get("graphs")).hasSize(1);
            long indexWrite = index.get("graphs").get(0).path("write").asLong(0);
            assertThat(indexWrite).as("index after kill %d", kills).isBetween(previousIndex, graphWrite);
            previousGraph = graphWrite;
            previousIndex = indexWrite;
            next = lastAnnounced + 1;
            try (Stream<Path> list = Files.list(graphs)) {
                List<Path> temporaries = list.filter(p -> FileWrites.isTemporary(p.getFileName().toString())).toList();
                tornTemporaries += temporaries.size();
                for (Path t : temporaries) { // as old as a crash before the last restart
                    Files.setLastModifiedTime(t, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
                }
            }
        }
        System.out.printf("GraphWriteCrashTest: %d writes, killed %d times, %d temporary files left by the kills%n",
                next - 1, kills, tornTemporaries);
        assertThat(next - 1).isGreaterThanOrEqualTo(target);
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
        Files.delete(errors);
    }
}
