package org.circuittracer.viewer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
        for (int round = 0; round < 3; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), AnnotationWriterMain.class.getName(),
                    graphs.toString(), "crash").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long announced;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                // let it complete a couple of versions, then kill it in the middle of writing the next one
                int writes = 2 + round;
                String line = null;
                for (int i = 0; i < writes; i++) {
                    line = out.readLine();
                    assertThat(line).as("child output").isNotNull().startsWith("writing ");
                }
                announced = Long.parseLong(line.substring("writing ".length()));
                Thread.sleep(ThreadLocalRandom.current().nextInt(0, 40));
                child.destroyForcibly();
                assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
            }
            JsonNode doc = TestGraphs.JSON.readTree(file.toFile());
            long version = doc.get("version").asLong();
            assertThat(version).isBetween(Math.max(1, announced - 1), announced + 2);
            assertThat(version).isGreaterThanOrEqualTo(lastSeen);
            assertConsistent(doc, version);
            lastSeen = version;
        }
        assertThat(new File(graphs.toFile(), "crash.json")).exists();
    }

    private static void assertConsistent(JsonNode doc, long version) {
        JsonNode labels = doc.get("labels");
        assertThat(labels.size()).isEqualTo(40_000);
        for (Map.Entry<String, JsonNode> e : labels.properties()) {
            assertThat(e.getValue().asText()).startsWith("label of version " + version + " ");
        }
    }
}
