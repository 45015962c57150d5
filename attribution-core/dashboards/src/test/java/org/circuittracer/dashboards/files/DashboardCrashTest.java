package org.circuittracer.dashboards.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.dashboards.CollectedDashboards;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.SyntheticDashboards;
import org.circuittracer.testkit.crash.KillLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} at seeded random points of writes ({@link KillLoop}: {@code -Dcrash.writes}, default 30 in
 * {@code mvn verify}, as each kill costs a JVM start; the 1,000 with {@code -Dcrash.writes=1000
 * -Dcrash.kills=1000}) of a feature-dashboards directory by {@link DashboardWriter} ({@link DashboardWriterMain}, a
 * child JVM, alternating the packed and per-feature layouts). After every kill, {@link DashboardReader} reads the
 * directory as exactly one complete set, the last announced or the one before (every feature's dashboard equal to that
 * set's, never a mix of two sets, never a torn file); the index the reference viewer reads ({@code index.json.gz} with
 * the layer files it names) is whole too. The next write's recovery ({@link DashboardWriter#recover}) leaves no
 * temporary file or staging directory.
 */
class DashboardCrashTest {

    @TempDir
    Path dir;

    private final Map<Long, CollectedDashboards> sets = new HashMap<>();

    private int newSet;
    private int oldSet;
    private int leftovers;
    private long previous;

    @Test
    void killedWriterLeavesOneCompleteSet() throws Exception {
        // set 0, the one a kill in the first write must leave
        DashboardWriter.write(set(0), dir, SyntheticDashboards.layout(0),
                DashboardListener.NONE);
        // kill points spanning a whole write: staging, layer files, the manifest, moving staged files into place,
        // deleting the old set
        KillLoop.Result r = KillLoop.of(DashboardWriterMain.class, dir.toString())
                .jvmOptions("-Xmx128m", "-XX:TieredStopAtLevel=1").run(this::assertOneSetAfter);
        System.out.printf("DashboardCrashTest: %s (%d kills after the commit, %d before); %d temporary files and "
                + "staging directories left by the kills%n", r, newSet, oldSet, leftovers);

        // a restart (the next write's first step) finishes a committed write and deletes what the kills left
        assertThat(DashboardWriter.recover(dir)).isPositive();
        assertThat(leftovers()).as("temporary files and staging directories after the recovery").isEmpty();
        assertThat(assertOneCompleteSet("after the recovery")).isEqualTo(previous);
        // and the next complete write leaves exactly its own files
        long last = previous + 1;
        DashboardWriter.write(set(last), dir, SyntheticDashboards.layout(last),
                DashboardListener.NONE);
        assertThat(assertOneCompleteSet("after a complete write")).isEqualTo(last);
        assertThat(names()).containsExactlyInAnyOrderElementsOf(expectedFiles(last));
    }

    /**
     * The child announces write n before it starts it: the directory holds set n or n - 1 (or, killed in its first
     * write, what it held before), and never goes back.
     */
    private void assertOneSetAfter(KillLoop.Kill kill) throws IOException {
        long set = assertOneCompleteSet(kill.when());
        if (set != previous) {
            assertThat(set).as("set %s", kill.when()).isBetween(kill.lastAnnounced() - 1, kill.lastAnnounced());
        }
        assertThat(set).isGreaterThanOrEqualTo(previous);
        if (set == kill.lastAnnounced()) {
            newSet++;
        } else {
            oldSet++;
        }
        previous = set;
        leftovers += leftovers().size();
    }

    /**
     * The same guarantee, step by step and without a child process: a write stopped at each step (before the commit,
     * right after it, after each staged file moved into place, before the old set is deleted) between every pair of
     * layouts leaves the old set before the commit and the new one after it; the recovery completes it.
     */
    @Test
    void aWriteStoppedAtAnyStepLeavesTheOldOrTheNewSet() throws IOException {
        long[][] pairs = {{1, 2}, {2, 3}, {3, 4}, {3, 7}}; // packed→packed, packed→json, json→packed, json→json
        Path root = dir;
        for (long[] pair : pairs) {
            for (String stop : List.of("staged", "committed", "moved 1", "moved 10", "rolled forward")) {
                Path d = Files.createTempDirectory(root, "stop");
                this.dir = d;
                DashboardWriter.write(set(pair[0]), d, SyntheticDashboards.layout(pair[0]),
                        DashboardListener.NONE);
                int[] moves = {0};
                DashboardWriter.stepHook = step -> {
                    String at = step.equals("moved") ? "moved " + ++moves[0] : step;
                    if (at.equals(stop)) {
                        throw new IllegalStateException("stopped at " + at);
                    }
                };
                try {
                    DashboardWriter.write(set(pair[1]), d, SyntheticDashboards.layout(pair[1]),
                            DashboardListener.NONE);
                    // fewer staged files than the step asked for: the write went through
                    assertThat(stop).startsWith("moved");
                } catch (IllegalStateException e) {
                    assertThat(e).hasMessage("stopped at " + stop);
                } finally {
                    DashboardWriter.stepHook = null;
                }
                long expected = stop.equals("staged") ? pair[0] : pair[1];
                String when = pair[0] + " -> " + pair[1] + " stopped at " + stop;
                assertThat(assertOneCompleteSet(when)).as(when).isEqualTo(expected);
                DashboardWriter.recover(d);
                assertThat(leftovers()).as(when).isEmpty();
                assertThat(assertOneCompleteSet(when + ", recovered")).as(when).isEqualTo(expected);
                DashboardWriter.write(set(pair[1] + 4), d, SyntheticDashboards.layout(pair[1] + 4),
                        DashboardListener.NONE);
                assertThat(names()).as(when).containsExactlyInAnyOrderElementsOf(expectedFiles(pair[1] + 4));
            }
        }
    }

    /**
     * A reader that may run beside a writer (the viewer at startup) recovers only what a killed write left long ago:
     * fresh leftovers, or one fresh file among old ones, may be a running write's and stay untouched.
     */
    @Test
    void onlyStaleLeftoversAreRecoveredBesideAPossibleWriter() throws IOException {
        DashboardWriter.write(set(1), dir, SyntheticDashboards.layout(1), DashboardListener.NONE);
        DashboardWriter.stepHook = step -> {
            if (step.equals("committed")) {
                throw new IllegalStateException("killed after the commit");
            }
        };
        try {
            DashboardWriter.write(set(2), dir, SyntheticDashboards.layout(2), DashboardListener.NONE);
        } catch (IllegalStateException expected) {
            // the write stopped where a kill would
        } finally {
            DashboardWriter.stepHook = null;
        }
        Files.writeString(dir.resolve(".dashboards.json.0123abcd.tmp"), "{\"torn");
        List<String> left = leftovers();
        assertThat(left).as("a staging directory and a temporary file").hasSize(2);

        assertThat(DashboardWriter.recoverStale(dir, DashboardWriter.STALE_AFTER))
                .isEqualTo(DashboardWriter.Recovery.LEFT_FOR_A_RUNNING_WRITER);
        assertThat(leftovers()).as("fresh leftovers are kept").isEqualTo(left);

        age(dir, Duration.ofHours(1));
        Path fresh = dir.resolve(".index.json.gz.4567cdef.tmp");
        Files.writeString(fresh, "growing");
        assertThat(DashboardWriter.recoverStale(dir, DashboardWriter.STALE_AFTER))
                .isEqualTo(DashboardWriter.Recovery.LEFT_FOR_A_RUNNING_WRITER);
        assertThat(leftovers()).as("one fresh file keeps the old ones too").hasSize(3);

        age(dir, Duration.ofHours(1));
        assertThat(DashboardWriter.recoverStale(dir, DashboardWriter.STALE_AFTER))
                .isEqualTo(DashboardWriter.Recovery.RECOVERED);
        assertThat(leftovers()).as("old leftovers are removed").isEmpty();
        assertThat(assertOneCompleteSet("after the recovery")).as("the committed set, moved into place").isEqualTo(2);
        assertThat(DashboardWriter.recoverStale(dir, DashboardWriter.STALE_AFTER))
                .isEqualTo(DashboardWriter.Recovery.NOTHING_LEFT);
    }

    /** Dates {@code root}, everything in it and in its subdirectories back by {@code age}. */
    private static void age(Path root, Duration age) throws IOException {
        FileTime then = FileTime.from(Instant.now().minus(age));
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.setLastModifiedTime(p, then);
            }
        }
    }

    /** Reads the directory as {@link DashboardReader} and as the reference viewer would; returns the set it holds. */
    private long assertOneCompleteSet(String when) throws IOException {
        DashboardReader reader = DashboardReader.open(dir);
        String scan = reader.scan().orElseThrow();
        assertThat(scan).as(when).startsWith("crash-");
        long n = Long.parseLong(scan.substring("crash-".length()));
        assertThat(reader.layout()).as(when).isEqualTo(SyntheticDashboards.layout(n));
        assertWhole(reader, set(n), when + ", set " + n);
        // the reference viewer reads index.json.gz alone: it names whole layer files of one set, never a newer one
        if (Files.exists(dir.resolve(DashboardWriter.INDEX))) {
            Path copy = Files.createTempDirectory(dir.getParent(), "index-view");
            try {
                Files.copy(dir.resolve(DashboardWriter.INDEX), copy.resolve(DashboardWriter.INDEX));
                JsonNode index;
                try (InputStream in = new GZIPInputStream(Files.newInputStream(copy.resolve(DashboardWriter.INDEX)))) {
                    index = FeatureJson.MAPPER.readTree(in);
                }
                for (int l = 0; l < SyntheticDashboards.LAYERS; l++) {
                    String name = index.get(Integer.toString(l)).get("filename").asText();
                    assertThat(dir.resolve(name)).as("%s: layer file named by index.json.gz", when).exists();
                    Files.copy(dir.resolve(name), copy.resolve(name));
                }
                DashboardReader external = DashboardReader.open(copy);
                long m = Long.parseLong(external.scan().orElseThrow().substring("crash-".length()));
                assertThat(m).as("%s: set of index.json.gz", when).isLessThanOrEqualTo(n);
                assertWhole(external, set(m), when + ", index.json.gz of set " + m);
            } finally {
                try (Stream<Path> files = Files.list(copy)) {
                    for (Path p : files.toList()) {
                        Files.delete(p);
                    }
                }
                Files.delete(copy);
            }
        }
        return n;
    }

    private static void assertWhole(DashboardReader reader, CollectedDashboards expected, String when) {
        assertThat(reader.layers()).as(when).hasSize(expected.layers());
        for (int l = 0; l < expected.layers(); l++) {
            assertThat(reader.features(l)).as(when).isEqualTo(expected.features(l));
            for (int f = 0; f < expected.features(l); f++) {
                assertThat(reader.read(l, f)).as("%s: layer %d feature %d", when, l, f)
                        .isEqualTo(expected.dashboard(l, f));
            }
        }
    }

    private CollectedDashboards set(long n) {
        return sets.computeIfAbsent(n, SyntheticDashboards::of);
    }

    /** The files a complete write of set {@code n} leaves (its layer files as a first write names them). */
    private TreeSet<String> expectedFiles(long n) throws IOException {
        TreeSet<String> names = new TreeSet<>(List.of(DashboardWriter.MANIFEST));
        CollectedDashboards d = set(n);
        if (SyntheticDashboards.layout(n) == DashboardLayout.PACKED) {
            names.add(DashboardWriter.INDEX);
            JsonNode index;
            try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve(DashboardWriter.INDEX)))) {
                index = FeatureJson.MAPPER.readTree(in);
            }
            for (int l = 0; l < d.layers(); l++) {
                names.add(index.get(Integer.toString(l)).get("filename").asText());
            }
        } else {
            for (int l = 0; l < d.layers(); l++) {
                for (int f = 0; f < d.features(l); f++) {
                    if (d.dashboard(l, f).isPresent()) {
                        names.add(FeatureIds.pair(l, f) + ".json");
                    }
                }
            }
        }
        return names;
    }

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Temporary files and staging directories: what a kill leaves beside the sets. */
    private List<String> leftovers() throws IOException {
        return names().stream().filter(n -> n.startsWith(DashboardWriter.STAGING_PREFIX)
                || DashboardWriter.TEMPORARY.matcher(n).matches()).toList();
    }
}
