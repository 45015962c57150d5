package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process while it writes annotations (SIGKILL, no shutdown hooks) and checks that the stored file is a
 * complete earlier or later version, never a torn one.
 */
class AnnotationCrashTest {

    @TempDir
    Path graphs;

    @Test
    void aKilledWriterLeavesTheLastCompleteVersion() throws Exception {
        TestGraphs.write(graphs, TestGraphs.smallGraph("crash"));
        Path file = graphs.resolve("crash.annotations.json");
        long lastSeen = 0;
        Path errors = Files.createTempFile("annotation-writer", ".err");
        for (int round = 0; round < 3; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), AnnotationWriterMain.class.getName(),
                    graphs.toString(), "crash").redirectError(errors.toFile()).start();
            long announced;
            long lastAnnounced;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                // let it complete a couple of versions, then kill it, most likely in the middle of writing one
                int writes = 2 + round;
                String line = null;
                for (int i = 0; i < writes; i++) {
                    line = out.readLine();
                    if (line == null) {
                        throw new AssertionError("the child ended before announcing version " + (i + 1) + "; its "
                                + "stderr:\n" + Files.readString(errors));
                    }
                    assertThat(line).as("child output").startsWith("writing ");
                }
                announced = Long.parseLong(line.substring("writing ".length()));
                // a random moment to kill it: not a wait for anything (the child runs ahead of what we read)
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 40));
                child.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly, keeps stdout open
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
                // what it announced before it died is still in the pipe: the last announcement bounds the version
                lastAnnounced = announced;
                for (line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.matches("writing \\d+")) {
                        lastAnnounced = Long.parseLong(line.substring("writing ".length()));
                    }
                }
            }
            JsonNode doc = TestGraphs.JSON.readTree(file.toFile());
            long version = doc.get("version").asLong();
            System.out.printf("AnnotationCrashTest round %d: read up to version %d, the child announced up to %d, "
                    + "the file holds %d%n", round, announced, lastAnnounced, version);
            // the child announces version n only once version n - 1 is saved, and then saves n: so the file holds
            // the last announced version or the one before it, complete either way
            assertThat(version).as("announced %d, last announced %d", announced, lastAnnounced)
                    .isBetween(Math.max(1, lastAnnounced - 1), lastAnnounced);
            assertThat(version).isGreaterThanOrEqualTo(Math.max(1, announced - 1));
            assertThat(version).isGreaterThanOrEqualTo(lastSeen);
            assertConsistent(doc, version);
            lastSeen = version;
        }
        assertThat(new File(graphs.toFile(), "crash.json")).exists();
        Files.delete(errors);
    }

    private static void assertConsistent(JsonNode doc, long version) {
        JsonNode labels = doc.get("labels");
        assertThat(labels.size()).isEqualTo(40_000);
        for (Map.Entry<String, JsonNode> e : labels.properties()) {
            assertThat(e.getValue().asText()).startsWith("label of version " + version + " ");
        }
    }
}
