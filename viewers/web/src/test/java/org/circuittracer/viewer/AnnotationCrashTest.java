package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.circuittracer.testkit.crash.KillLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process while it writes annotations (SIGKILL, no shutdown hooks; {@link KillLoop}: 30 saves in
 * {@code mvn verify}, {@code -Dcrash.writes} and {@code -Dcrash.kills} for more) and checks that the stored file is a
 * complete earlier or later version, never a torn one.
 */
class AnnotationCrashTest {

    @TempDir
    Path graphs;

    private long lastSeen;

    @Test
    void aKilledWriterLeavesTheLastCompleteVersion() throws Exception {
        TestGraphs.write(graphs, TestGraphs.smallGraph("crash"));
        KillLoop.Result r = KillLoop.of(AnnotationWriterMain.class, graphs.toString(), "crash").run(this::assertWhole);
        System.out.printf("AnnotationCrashTest: %s; the file holds version %d%n", r, lastSeen);
        assertThat(graphs.resolve("crash.json")).exists();
    }

    /**
     * The child announces version n only once version n - 1 is saved, and then saves n: so the file holds the last
     * announced version or the one before it, complete either way (or, killed in its first save, nothing yet).
     */
    private void assertWhole(KillLoop.Kill kill) throws Exception {
        Path file = graphs.resolve("crash.annotations.json");
        if (!Files.exists(file)) {
            assertThat(kill.lastAnnounced()).as(kill.when()).isLessThanOrEqualTo(1);
            assertThat(lastSeen).isZero();
            return;
        }
        JsonNode doc = TestGraphs.JSON.readTree(file.toFile());
        long version = doc.get("version").asLong();
        assertThat(version).as(kill.when()).isBetween(Math.max(1, kill.lastAnnounced() - 1), kill.lastAnnounced());
        assertThat(version).isGreaterThanOrEqualTo(lastSeen);
        assertConsistent(doc, version);
        lastSeen = version;
    }

    private static void assertConsistent(JsonNode doc, long version) {
        JsonNode labels = doc.get("labels");
        assertThat(labels.size()).isEqualTo(40_000);
        for (Map.Entry<String, JsonNode> e : labels.properties()) {
            assertThat(e.getValue().asText()).startsWith("label of version " + version + " ");
        }
    }
}
