package org.circuittracer.distribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/** For the packaged tool's tests: runs a command (output and errors together, killed past a time limit). */
final class Processes {

    record Result(int exit, String out) {
    }

    private Processes() {
    }

    /** Whether an installation's demo jar carries the trained artifacts (they arrive with the demo's recipe). */
    static boolean demoPresent(Path home) throws IOException {
        try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
            Path demo = lib.filter(p -> p.getFileName().toString().startsWith("circuit-tracer-demo")).findFirst()
                    .orElseThrow();
            try (ZipFile zip = new ZipFile(demo.toFile())) {
                return zip.getEntry("org/circuittracer/demo/artifacts/FILES") != null;
            }
        }
    }

    /** Runs {@code command} with {@code environment} added to this process's. */
    static Result run(List<String> command, Map<String, String> environment, Duration limit)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("circuit-tracer-run", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(environment);
            Process p = builder.start();
            if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command + "\n" + Files.readString(log));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
